# Swin-T with MixPro (Zhao et al., ICLR 2023) as the official code trains it
# (configs/swin/swin_tiny_patch4_window7_mask56_224_alpha1.yaml): MaskMix at
# p=0.5 with 56-px cells (MASK_PATCH_SIZE 56: a 4x4 grid at 224 px) and area
# labels, else timm's Mixup 0.8 / CutMix 1.0 (switch 0.5), labels smoothed
# by 0.1 in the augment (the head is a plain soft cross-entropy). PAL is off,
# as in the official Swin configs (their Swin model cannot return attention),
# so no attention is read. On MMPretrain's Swin-T recipe of
# ../smmix/swin-tiny_mixup-cutmix_16xb64_in1k.py (the official loop also
# fixes lr 1e-3, warm-up from 1e-6 and min lr 1e-5 whatever the batch, and
# stochastic depth 0.2, as here). PAL on Swin (ours, not official):
# pal=True, attn_stat='pooled'.
# The survey table of Jin et al. (2024) reports Swin-T MixPro 82.8 top-1.
_base_ = '../smmix/swin-tiny_mixup-cutmix_16xb64_in1k.py'

model = dict(
    head=dict(loss=dict(_delete_=True, type='CrossEntropyLoss',
                        use_soft=True)),
    train_cfg=dict(
        _delete_=True,
        augments=dict(
            type='MixPro',
            alpha=1.0,
            cell_pixels=56,
            pal=False,
            maskmix_prob=0.5,
            mixup_alpha=0.8,
            cutmix_alpha=1.0,
            cutmix_prob=0.5,
            label_smoothing=0.1)))
