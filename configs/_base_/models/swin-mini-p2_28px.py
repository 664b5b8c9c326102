# A 2-stage, 32-dim Swin (MMPretrain's SwinTransformer) for 28x28 one-channel
# images: patch 2 -> stage 1 a 14x14 grid (4 windows of 7x7, the second
# block shifted by 3), patch merging -> stage 2 a 7x7 grid (one window, no
# shift) of 4x4-px cells, as the Fashion-MNIST ViT's 7x7 token grid. Heads
# of 32 dims as Swin-T's. 32 dims keep a CPU step near the ViT's (48 dims
# cost 2.7x). Global average pooling, a linear head, label smoothing 0.1.
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='SwinTransformer',
        arch=dict(embed_dims=32, depths=[2, 2], num_heads=[1, 2]),
        img_size=28,
        patch_size=2,
        in_channels=1,
        window_size=7,
        drop_path_rate=0.,
        out_indices=(1, )),
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
