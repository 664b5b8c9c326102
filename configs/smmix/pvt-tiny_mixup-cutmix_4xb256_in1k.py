# PVT-v1-Tiny baseline: PVT's own recipe (whai362/PVT, DeiT-based: Mixup
# 0.8 / CutMix 1.0, label smoothing 0.1, RandomErasing 0.25, AdamW 1e-3 at a
# global 1024, 300 epochs, stochastic depth 0.1, no gradient clipping, no
# weight decay on the class token and 1-D parameters only), built from
# deit-tiny_mixup-cutmix_4xb256_in1k.py.
_base_ = './deit-tiny_mixup-cutmix_4xb256_in1k.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='PyramidVisionTransformerV1',
        arch='tiny',
        img_size=224,
        drop_path_rate=0.1,
        out_type='cls_token'),
    head=dict(in_channels=512),
)
optim_wrapper = dict(
    clip_grad=None,
    paramwise_cfg=dict(
        custom_keys=dict(
            _delete_=True, **{'.cls_token': dict(decay_mult=0.0)})))
