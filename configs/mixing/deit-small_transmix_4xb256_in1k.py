# DeiT-S with TransMix (Chen et al., CVPR 2022): the DeiT recipe of
# ../smmix/deit-small_mixup-cutmix_4xb256_in1k.py with CutMix relabelled by
# the mixed forward's attention, switched with Mixup at TransMix's official
# `mixup-switch-prob 0.8` (TransMix 0.8, Mixup 0.2). The official recipe
# also keeps a model EMA, which this one (like our other DeiT configs) does
# not.
_base_ = '../smmix/deit-small_mixup-cutmix_4xb256_in1k.py'

model = dict(
    train_cfg=dict(
        _delete_=True,
        augments=[
            dict(type='Mixup', alpha=0.8),
            dict(type='TransMix', alpha=1.0)
        ],
        probs=[0.2, 0.8]))
