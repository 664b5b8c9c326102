# PVT-v1-Small baseline: pvt-tiny_mixup-cutmix_4xb256_in1k.py with the Small
# depths.
_base_ = './pvt-tiny_mixup-cutmix_4xb256_in1k.py'

model = dict(backbone=dict(arch='small'))
