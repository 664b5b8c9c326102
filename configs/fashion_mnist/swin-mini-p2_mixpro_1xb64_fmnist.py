# Swin-mini with MixPro (Zhao et al., ICLR 2023) as the official Swin configs
# (swin_*_mask56: 56-px cells, a quarter of the 224-px side): MaskMix at
# p=0.5 with 7-px cells (a quarter of 28 px: a 4x4 cell grid) and area
# labels, else timm's Mixup 0.8 or CutMix 1.0 (switch 0.5), labels smoothed
# by 0.1 in the augment (a plain soft cross-entropy head). PAL off, as in
# the official Swin configs: no attention is read.
_base_ = './swin-mini-p2_nomix_1xb64_fmnist.py'
model = dict(
    type='MixImageClassifier',
    head=dict(loss=dict(_delete_=True, type='CrossEntropyLoss',
                        use_soft=True)),
    train_cfg=dict(
        augments=dict(
            type='MixPro',
            alpha=1.0,
            cell_pixels=7,
            pal=False,
            maskmix_prob=0.5,
            mixup_alpha=0.8,
            cutmix_alpha=1.0,
            cutmix_prob=0.5,
            label_smoothing=0.1)))
