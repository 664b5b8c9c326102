# CIFAR-100 suite, FMix in CutMix's place (Mixup 0.8 or FMix alpha 1, decay
# power 3, per batch; LabelSmoothLoss 0.1): the recipe of
# ./deit-small_mixup-cutmix_1xb100_cifar100-224px.py with the mixing of
# ../deit-small_fmix_4xb256_in1k.py (masks at the 224-px input size).
_base_ = './deit-small_mixup-cutmix_1xb100_cifar100-224px.py'

model = dict(
    train_cfg=dict(
        _delete_=True,
        augments=[
            dict(type='Mixup', alpha=0.8),
            dict(type='FMix', alpha=1.0, decay_power=3.0)
        ]))
