# PVT-v2-mini baseline: the DeiT/PVT-v2 mixing, Mixup(0.8) or CutMix(1.0)
# per batch, applied by MixImageClassifier; label smoothing 0.1.
_base_ = './pvt-v2-mini_nomix_1xb64_fmnist.py'
model = dict(
    type='MixImageClassifier',
    train_cfg=dict(augments=[
        dict(type='Mixup', alpha=0.8),
        dict(type='CutMix', alpha=1.0)
    ]))
