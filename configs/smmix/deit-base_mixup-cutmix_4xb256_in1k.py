# DeiT-Base baseline: deit-tiny_mixup-cutmix_4xb256_in1k.py with the DeiT-B
# backbone, at the SMMix comparison's 4 x 256 (MMPretrain's DeiT-B config
# uses 16 x 64 and an EMA hook; the learning rate is the same 1e-3).
_base_ = './deit-tiny_mixup-cutmix_4xb256_in1k.py'

model = dict(backbone=dict(arch='deit-base'), head=dict(in_channels=768))
