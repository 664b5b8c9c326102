# Baseline: MMPretrain's DeiT mixing, Mixup(0.8) or CutMix(1.0) per batch,
# applied by MixImageClassifier (as every mixing config here: the choice is
# drawn identically on every rank, the non-finite guard, exact resume).
_base_ = './vit-mini-p7_nomix_1xb64_fmnist.py'
model = dict(
    type='MixImageClassifier',
    train_cfg=dict(augments=[
        dict(type='Mixup', alpha=0.8),
        dict(type='CutMix', alpha=1.0)
    ]))
