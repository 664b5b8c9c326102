# CIFAR-100 suite, MixPro in its official loop (MaskMix p=0.5 else Mixup 0.8
# / CutMix 1.0, smoothing 0.1 in the augment, PAL on): the recipe of
# ./deit-small_mixup-cutmix_1xb100_cifar100-224px.py with the mixing of
# ../deit-small_mixpro_4xb256_in1k.py: DeiT-S/16 (14x14 grid), cells of 4
# tokens, lam the kept share of tokens; the head's LabelSmoothLoss becomes a
# plain soft cross-entropy (the augment smooths).
_base_ = './deit-small_mixup-cutmix_1xb100_cifar100-224px.py'

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
