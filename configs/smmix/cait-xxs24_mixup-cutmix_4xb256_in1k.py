# CaiT-XXS-24 baseline: the DeiT recipe CaiT follows
# (deit-tiny_mixup-cutmix_4xb256_in1k.py) with timm's CaiT-XXS-24 and the
# same stochastic depth 0.1 as its SMMix config.
_base_ = './deit-tiny_mixup-cutmix_4xb256_in1k.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='CaiT',
        arch='xxs24',
        drop_path_rate=0.1,
        out_type='cls_token'),
    head=dict(in_channels=192),
)
