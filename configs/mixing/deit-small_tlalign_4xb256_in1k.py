# DeiT-S with TL-Align (Xiao et al., ICCV 2023): the DeiT recipe of
# ../smmix/deit-small_mixup-cutmix_4xb256_in1k.py with the authors' mixing
# (train_deit_small_tla.sh): token CutMix (alpha 1.0) on every batch, no
# Mixup, labels propagated through every block's attention to the class
# token; label smoothing 0.1 in the augment, so the head is a plain soft
# cross-entropy.
# Differences from the official recipe (which are those of our shared DeiT-S
# recipe, kept so that it compares with the other DeiT-S configs): warm-up
# 20 epochs (official 5), no repeated augmentation (official on), gradient
# clipping at 5, no AMP unless asked for (official AMP on); both keep no
# model EMA. The DeiT-S baseline it is compared against
# (../smmix/deit-small_mixup-cutmix_4xb256_in1k.py, as in the paper) trains
# with Mixup 0.8 / CutMix 1.0.
_base_ = '../smmix/deit-small_mixup-cutmix_4xb256_in1k.py'

model = dict(
    head=dict(loss=dict(_delete_=True, type='CrossEntropyLoss',
                        use_soft=True)),
    train_cfg=dict(
        _delete_=True,
        augments=dict(
            type='TLAlign', tokenmix_alpha=1.0, label_smoothing=0.1)))
