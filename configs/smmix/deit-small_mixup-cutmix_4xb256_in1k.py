# DeiT-Small baseline: deit-tiny_mixup-cutmix_4xb256_in1k.py with the DeiT-S
# backbone (MMPretrain's deit-small_4xb256_in1k.py recipe, drop path 0.1).
_base_ = './deit-tiny_mixup-cutmix_4xb256_in1k.py'

model = dict(backbone=dict(arch='deit-small'), head=dict(in_channels=384))
