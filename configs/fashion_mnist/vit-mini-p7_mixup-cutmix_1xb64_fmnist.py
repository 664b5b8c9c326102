# Baseline: MMPretrain's DeiT mixing, Mixup(0.8) or CutMix(1.0) per batch.
_base_ = './vit-mini-p7_nomix_1xb64_fmnist.py'
model = dict(
    train_cfg=dict(augments=[
        dict(type='Mixup', alpha=0.8),
        dict(type='CutMix', alpha=1.0)
    ]))
