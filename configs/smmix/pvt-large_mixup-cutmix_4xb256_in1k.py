# PVT-v1-Large baseline: pvt-medium_mixup-cutmix_4xb256_in1k.py (drop path
# 0.3, clipping at 1.0, as PVT's pvt_large.py) with the Large depths.
_base_ = './pvt-medium_mixup-cutmix_4xb256_in1k.py'

model = dict(backbone=dict(arch='large'))
