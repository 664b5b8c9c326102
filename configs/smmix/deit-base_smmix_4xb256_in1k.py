# DeiT-Base + SMMix on ImageNet-1k: the DeiT-T SMMix recipe (see
# deit-tiny_smmix_4xb256_in1k.py for every difference from MMPretrain's DeiT
# configs and from the official code) with the DeiT-B backbone.
# Unlike MMPretrain's deit-base_16xb64_in1k.py this config uses 4 GPUs x 256
# (global 1024, lr 1e-3, as the official SMMix launcher) and no EMAHook: the
# official SMMix code creates a model EMA but never updates it, and evaluates
# the raw model. Stochastic depth 0.1 is the same in both.
_base_ = './deit-tiny_smmix_4xb256_in1k.py'

model = dict(
    backbone=dict(arch='deit-base'),
    head=dict(in_channels=768),
)
