# CaiT-XXS-36 + SMMix on ImageNet-1k: cait-xxs24_smmix_4xb256_in1k.py with
# 36 self-attention blocks.
_base_ = './cait-xxs24_smmix_4xb256_in1k.py'

model = dict(backbone=dict(arch='xxs36'))
