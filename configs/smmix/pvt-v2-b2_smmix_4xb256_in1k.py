# PVT-v2-B2 + SMMix on ImageNet-1k: the DeiT-T SMMix recipe (see
# deit-tiny_smmix_4xb256_in1k.py) with PVT-v2-B2 and PVT-v2's optimiser
# settings (pvt-v2-b2_mixup-cutmix_4xb256_in1k.py). Ours: the official
# SMMix code has no PVT-v2.
#   * SMMix reads the last block of stage 4, whose reduction ratio is 1:
#     full attention over the 7x7 grid at 224 px, recomputed from the
#     block's own weights (timm runs it fused); 'patch' statistic (column
#     mean; PVT-v2 has no class token);
#   * regions on the 7x7 grid of 32-px cells: sides 1..5, lam = 1 - r^2/49;
#   * no neck: SMMixClsHead classifies the mean of the 7x7 map (what the
#     baseline's GlobalAveragePooling gives) and its token head reads the
#     map's positions inside and outside the region.
_base_ = './deit-tiny_smmix_4xb256_in1k.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='PyramidVisionTransformerV2',
        arch='b2',
        drop_path_rate=0.1),
    head=dict(in_channels=512),
)
optim_wrapper = dict(
    clip_grad=None,
    paramwise_cfg=dict(custom_keys=dict(_delete_=True)))
