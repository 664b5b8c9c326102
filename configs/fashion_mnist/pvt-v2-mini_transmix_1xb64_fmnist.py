# PVT-v2-mini with TransMix: OURS, not the official method (PVT-v2 has no
# class token, so the official class-to-patch statistic does not exist).
# CutMix relabelled by the 'pooled' statistic (ours: the attention each of
# the last stage's 7x7 tokens receives, averaged over queries and heads) at
# the official switch p = 0.8, else Mixup 0.8; label smoothing 0.1.
_base_ = './pvt-v2-mini_nomix_1xb64_fmnist.py'
model = dict(
    type='MixImageClassifier',
    train_cfg=dict(
        augments=[
            dict(type='Mixup', alpha=0.8),
            dict(type='TransMix', alpha=1.0, attn_stat='pooled')
        ],
        probs=[0.2, 0.8]))
