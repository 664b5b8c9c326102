# TransMix (Chen et al., CVPR 2022), official switch: each batch CutMix
# relabelled by the mixed forward's class-to-patch attention (p = 0.8) or
# Mixup 0.8 (p = 0.2); label smoothing 0.1 in the head.
_base_ = './vit-mini-p7_nomix_1xb64_fmnist.py'
model = dict(
    type='MixImageClassifier',
    train_cfg=dict(
        augments=[
            dict(type='Mixup', alpha=0.8),
            dict(type='TransMix', alpha=1.0)
        ],
        probs=[0.2, 0.8]))
