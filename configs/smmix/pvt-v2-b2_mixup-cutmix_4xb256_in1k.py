# PVT-v2-B2 baseline: PVT-v2's own recipe (Wang et al., CVMJ 2022;
# whai362/PVT, DeiT-based: Mixup 0.8 / CutMix 1.0, label smoothing 0.1,
# RandomErasing 0.25, AdamW 1e-3 at a global 1024, 300 epochs, stochastic
# depth 0.1 for B2, no gradient clipping; its paper: 82.0 top-1), built, as
# the PVT-v1 baselines are, from deit-tiny_mixup-cutmix_4xb256_in1k.py
# (MMPretrain's DeiT schedule: 20 warm-up epochs where PVT-v2 has 5).
# The backbone is timm's pvt_v2_b2 (PyramidVisionTransformerV2, a thin
# wrapper); its last stage (B, 512, 7, 7) is averaged by the neck, as
# timm's head does.
_base_ = './deit-tiny_mixup-cutmix_4xb256_in1k.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='PyramidVisionTransformerV2',
        arch='b2',
        drop_path_rate=0.1),
    neck=dict(_delete_=True, type='GlobalAveragePooling'),
    head=dict(in_channels=512),
)
optim_wrapper = dict(
    clip_grad=None,
    paramwise_cfg=dict(custom_keys=dict(_delete_=True)))
