# A 2-stage PVT-v2 (timm's, as PyramidVisionTransformerV2) for one-channel
# images resized to 56x56 (timm's stem has stride 4): stage 1 a 14x14 grid,
# 32 dims, keys/values reduced 2x (7x7); stage 2 a 7x7 grid of 8x8-px cells
# (4x4 px of the 28-px original), 64 dims, full attention (sr_ratio 1, what
# the attention probe reads). Global average pooling, a linear head, label
# smoothing 0.1. The Resize to 56 px is in the method configs.
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='PyramidVisionTransformerV2',
        arch=dict(
            depths=(2, 2),
            embed_dims=(32, 64),
            num_heads=(1, 2),
            sr_ratios=(2, 1),
            mlp_ratios=(4, 4)),
        in_channels=1,
        img_size=56,
        out_indices=-1,
        drop_path_rate=0.),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=64,
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original')),
    init_cfg=[
        dict(type='TruncNormal', layer='Linear', std=.02),
        dict(type='Constant', layer='LayerNorm', val=1., bias=0.),
    ],
)
