# PVT-v1-Small + SMMix on ImageNet-1k: pvt-tiny_smmix_4xb256_in1k.py with
# the Small depths (3, 4, 6, 3).
_base_ = './pvt-tiny_smmix_4xb256_in1k.py'

model = dict(backbone=dict(arch='small'))
