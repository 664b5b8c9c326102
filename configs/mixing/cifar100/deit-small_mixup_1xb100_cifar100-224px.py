# CIFAR-100 suite, MMPretrain's Mixup alone (alpha 0.8 every batch,
# LabelSmoothLoss 0.1): the recipe of
# ./deit-small_mixup-cutmix_1xb100_cifar100-224px.py with the mixing of
# ../deit-small_mixup_4xb256_in1k.py.
_base_ = './deit-small_mixup-cutmix_1xb100_cifar100-224px.py'

model = dict(
    train_cfg=dict(_delete_=True, augments=dict(type='Mixup', alpha=0.8)))
