# CIFAR-100 suite, Mixup + CutMix (DeiT's mixing: Mixup 0.8 or CutMix 1.0
# per batch, LabelSmoothLoss 0.1): OpenMixup's 224-px DeiT-S CIFAR-100
# recipe (200 epochs, 1 GPU x 100) of
# ../../transfer/deit-small_mixup-cutmix_1xb100_cifar100-224px.py, unchanged:
# its mixing is already that of ../../smmix/deit-small_mixup-cutmix_4xb256_
# in1k.py. The other methods of the suite change only the mixing of this
# config (SMMix and SMMix + DM that of the SMMix one).
_base_ = '../../transfer/deit-small_mixup-cutmix_1xb100_cifar100-224px.py'
