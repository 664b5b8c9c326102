# DeiT-S with FMix in CutMix's place (Harris et al., 2020): the DeiT recipe
# of ../smmix/deit-small_mixup-cutmix_4xb256_in1k.py with each batch either
# Mixup (0.8) or FMix (alpha 1, decay power 3), so it compares with SMMix,
# which also takes CutMix's place.
_base_ = '../smmix/deit-small_mixup-cutmix_4xb256_in1k.py'

model = dict(
    train_cfg=dict(
        _delete_=True,
        augments=[
            dict(type='Mixup', alpha=0.8),
            dict(type='FMix', alpha=1.0, decay_power=3.0)
        ]))
