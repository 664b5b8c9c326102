# CIFAR-100 suite, SMMix (the official recipe: SMMix p=0.5 else Mixup 0.8,
# smoothing 0.1 in the augment, SMMixClsHead): OpenMixup's 224-px DeiT-S
# CIFAR-100 recipe of ../../transfer/deit-small_smmix_1xb100_cifar100-224px.py,
# unchanged: it inherits its mixing from ../../smmix/deit-small_smmix_4xb256_
# in1k.py (on the same 14x14 token grid).
_base_ = '../../transfer/deit-small_smmix_1xb100_cifar100-224px.py'
