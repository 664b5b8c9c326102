# CIFAR-100 suite, MMPretrain's CutMix alone (alpha 1.0 every batch,
# LabelSmoothLoss 0.1): the recipe of
# ./deit-small_mixup-cutmix_1xb100_cifar100-224px.py with the mixing of
# ../deit-small_cutmix_4xb256_in1k.py.
_base_ = './deit-small_mixup-cutmix_1xb100_cifar100-224px.py'

model = dict(
    train_cfg=dict(_delete_=True, augments=dict(type='CutMix', alpha=1.0)))
