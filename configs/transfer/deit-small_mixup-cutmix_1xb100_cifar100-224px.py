# DeiT-S baseline on CIFAR-100 at 224 px: deit-small_smmix_1xb100_cifar100-
# 224px.py (same data, schedule and model) with DeiT's mixing instead of
# SMMix: Mixup 0.8 or CutMix 1.0 per batch, LabelSmoothLoss 0.1, the class
# head alone.
_base_ = './deit-small_smmix_1xb100_cifar100-224px.py'

model = dict(
    backbone=dict(out_type='cls_token'),
    head=dict(
        _delete_=True,
        type='VisionTransformerClsHead',
        num_classes=100,
        in_channels=384,
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        init_cfg=dict(type='TruncNormal', layer='Linear', std=.02, bias=0.)),
    train_cfg=dict(
        _delete_=True,
        augments=[
            dict(type='Mixup', alpha=0.8),
            dict(type='CutMix', alpha=1.0)
        ]),
)
find_unused_parameters = False
