# PVT-v2-mini baseline: MMPretrain's CutMix (Yun et al., ICCV 2019), alpha
# 1.0, every batch; label smoothing 0.1 in the head.
_base_ = './pvt-v2-mini_nomix_1xb64_fmnist.py'
model = dict(
    type='MixImageClassifier',
    train_cfg=dict(augments=dict(type='CutMix', alpha=1.0)))
