# MixPro (Zhao et al., ICLR 2023) as the official training loop: each batch
# MaskMix (p=0.5, cells of one token = 7x7 px on the 4x4 grid, a cell
# permutation per image, a random partner, lam = kept cells / 16), else
# timm's Mixup 0.8 or CutMix 1.0 (switch 0.5), every label smoothed by 0.1
# in the augment (so the head is a plain soft cross-entropy). Progressive
# Attention Labeling is on here (the official DeiT configs ship it off:
# pal=False); PAL labels are hard, as the official PAL loss.
_base_ = './vit-mini-p7_nomix_1xb64_fmnist.py'
model = dict(
    type='MixImageClassifier',
    head=dict(loss=dict(_delete_=True, type='CrossEntropyLoss',
                        use_soft=True)),
    train_cfg=dict(
        augments=dict(
            type='MixPro',
            alpha=1.0,
            cell_tokens=1,
            pal=True,
            maskmix_prob=0.5,
            mixup_alpha=0.8,
            cutmix_alpha=1.0,
            cutmix_prob=0.5,
            label_smoothing=0.1)))
