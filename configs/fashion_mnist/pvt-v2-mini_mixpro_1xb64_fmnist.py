# PVT-v2-mini with MixPro (Zhao et al., ICLR 2023) as the official Swin
# configs (the official code has no PVT-v2; cells a quarter of the image
# side as its swin_*_mask56): MaskMix at p=0.5 with 14-px cells (a 4x4 cell
# grid at 56 px) and area labels, else timm's Mixup 0.8 or CutMix 1.0
# (switch 0.5), labels smoothed by 0.1 in the augment (a plain soft
# cross-entropy head). PAL off, as the official Swin configs.
_base_ = './pvt-v2-mini_nomix_1xb64_fmnist.py'
model = dict(
    type='MixImageClassifier',
    head=dict(loss=dict(_delete_=True, type='CrossEntropyLoss',
                        use_soft=True)),
    train_cfg=dict(
        augments=dict(
            type='MixPro',
            alpha=1.0,
            cell_pixels=14,
            pal=False,
            maskmix_prob=0.5,
            mixup_alpha=0.8,
            cutmix_alpha=1.0,
            cutmix_prob=0.5,
            label_smoothing=0.1)))
