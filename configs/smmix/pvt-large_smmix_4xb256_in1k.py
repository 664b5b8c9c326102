# PVT-v1-Large + SMMix on ImageNet-1k: pvt-medium_smmix_4xb256_in1k.py
# (stochastic depth 0.3, clipping at 1.0, as PVT's pvt_large.py) with the
# Large depths (3, 8, 27, 3).
_base_ = './pvt-medium_smmix_4xb256_in1k.py'

model = dict(backbone=dict(arch='large'))
