# DeiT-S/16 with MixPro (Zhao et al., ICLR 2023) in the official training
# loop: MaskMix at p=0.5, else timm's Mixup 0.8 / CutMix 1.0 (switch 0.5),
# labels smoothed by 0.1 in the augment (the head is a plain soft
# cross-entropy), on the DeiT recipe of
# ../smmix/deit-small_mixup-cutmix_4xb256_in1k.py, so that it compares with
# the other DeiT-S/16 configs.
# Geometry: the official DeiT configs use 14-px patches (a 16x16 grid) and
# 56-px cells, i.e. 4x4 cells of 4 tokens that tile the grid; that model is
# ./deit-small-p14_mixpro_4xb256_in1k.py. Here, with 16-px patches (14x14
# grid), cells of 4 tokens (64 px) leave the last row and column of cells
# 2 tokens wide; the official lam (kept cells / 16) would count those as
# whole cells, so lam is the kept share of tokens (area_lam='tokens').
# PAL is on (the official configs ship it off: set pal=False).
_base_ = '../smmix/deit-small_mixup-cutmix_4xb256_in1k.py'

model = dict(
    head=dict(loss=dict(_delete_=True, type='CrossEntropyLoss',
                        use_soft=True)),
    train_cfg=dict(
        _delete_=True,
        augments=dict(
            type='MixPro',
            alpha=1.0,
            cell_tokens=4,
            pal=True,
            maskmix_prob=0.5,
            mixup_alpha=0.8,
            cutmix_alpha=1.0,
            cutmix_prob=0.5,
            label_smoothing=0.1,
            area_lam='tokens')))
