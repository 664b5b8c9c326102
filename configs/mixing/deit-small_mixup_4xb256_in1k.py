# DeiT-S with MMPretrain's Mixup alone (Zhang et al., ICLR 2018): the DeiT
# recipe of ../smmix/deit-small_mixup-cutmix_4xb256_in1k.py with every batch
# Mixup (alpha 0.8, DeiT's value) instead of Mixup or CutMix; label
# smoothing 0.1 in the head, as there.
_base_ = '../smmix/deit-small_mixup-cutmix_4xb256_in1k.py'

model = dict(
    train_cfg=dict(_delete_=True, augments=dict(type='Mixup', alpha=0.8)))
