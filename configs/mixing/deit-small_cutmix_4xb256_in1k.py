# DeiT-S with MMPretrain's CutMix alone (Yun et al., ICCV 2019): the DeiT
# recipe of ../smmix/deit-small_mixup-cutmix_4xb256_in1k.py with every batch
# CutMix (alpha 1.0, DeiT's value) instead of Mixup or CutMix; label
# smoothing 0.1 in the head, as there.
_base_ = '../smmix/deit-small_mixup-cutmix_4xb256_in1k.py'

model = dict(
    train_cfg=dict(_delete_=True, augments=dict(type='CutMix', alpha=1.0)))
