# DeiT-Small + SMMix on ImageNet-1k: the DeiT-T SMMix recipe (see
# deit-tiny_smmix_4xb256_in1k.py for every difference from MMPretrain's DeiT
# configs and from the official code) with the DeiT-S backbone. Same 4x256
# batch and lr 1e-3 as MMPretrain's deit-small_4xb256_in1k.py.
_base_ = './deit-tiny_smmix_4xb256_in1k.py'

model = dict(
    backbone=dict(arch='deit-small'),
    head=dict(in_channels=384),
)
