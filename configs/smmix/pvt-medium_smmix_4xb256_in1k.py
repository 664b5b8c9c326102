# PVT-v1-Medium + SMMix on ImageNet-1k: pvt-tiny_smmix_4xb256_in1k.py with
# the Medium depths (3, 4, 18, 3) and PVT's own Medium settings: stochastic
# depth 0.3 and gradient clipping at max_norm 1.0 (whai362/PVT
# configs/pvt/pvt_medium.py). The official SMMix code does not say which
# values it used for PVT-M/L (its defaults are 0.1 and no clipping).
_base_ = './pvt-tiny_smmix_4xb256_in1k.py'

model = dict(backbone=dict(arch='medium', drop_path_rate=0.3))
optim_wrapper = dict(clip_grad=dict(_delete_=True, max_norm=1.0))
