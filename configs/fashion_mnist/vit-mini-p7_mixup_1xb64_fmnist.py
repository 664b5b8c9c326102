# Baseline: MMPretrain's Mixup (Zhang et al., ICLR 2018), alpha 0.8, every
# batch; label smoothing 0.1 in the head.
_base_ = './vit-mini-p7_nomix_1xb64_fmnist.py'
model = dict(
    type='MixImageClassifier',
    train_cfg=dict(augments=dict(type='Mixup', alpha=0.8)))
