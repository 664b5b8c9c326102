# PVT-v1-Tiny + SMMix on ImageNet-1k: the DeiT-T SMMix recipe (see
# deit-tiny_smmix_4xb256_in1k.py) with PVT-v1, as the official SMMix code
# trains it (its pvt.py):
#   * SMMix reads the last block of stage 4: a 7x7 grid at 224 px, 32-pixel
#     cells, region sides int(7*0.25)..int(7*0.75) = 1..5, lam = 1 - r^2/49
#     (the official command needs `--side 7` by hand; here the grid is read
#     from the backbone);
#   * the token head pools the 49 final-norm stage-4 patch tokens (512-d);
#   * weight decay spares only the class token and 1-D parameters (PVT's
#     no_weight_decay = {cls_token}: its position embeddings are decayed);
#   * no gradient clipping and stochastic depth 0.1 for PVT-T/S, as in PVT's
#     and SMMix's code (MMPretrain's DeiT schedule clips at 5.0).
_base_ = './deit-tiny_smmix_4xb256_in1k.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='PyramidVisionTransformerV1',
        arch='tiny',
        img_size=224,
        drop_path_rate=0.1,
        out_type='raw'),
    head=dict(in_channels=512),
)
optim_wrapper = dict(
    clip_grad=None,
    paramwise_cfg=dict(
        custom_keys=dict(
            _delete_=True, **{'.cls_token': dict(decay_mult=0.0)})))
