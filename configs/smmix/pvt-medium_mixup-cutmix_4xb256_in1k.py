# PVT-v1-Medium baseline: pvt-tiny_mixup-cutmix_4xb256_in1k.py with the
# Medium depths and PVT's Medium settings (stochastic depth 0.3, gradient
# clipping at 1.0).
_base_ = './pvt-tiny_mixup-cutmix_4xb256_in1k.py'

model = dict(backbone=dict(arch='medium', drop_path_rate=0.3))
optim_wrapper = dict(clip_grad=dict(_delete_=True, max_norm=1.0))
