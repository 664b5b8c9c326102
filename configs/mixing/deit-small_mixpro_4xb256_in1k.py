# DeiT-S with MixPro (Zhao et al., ICLR 2023): the DeiT recipe of
# ../smmix/deit-small_mixup-cutmix_4xb256_in1k.py with MaskMix at p=0.5
# (cells of 4x4 tokens, as the official 56-px cells over 14-px patches) and
# Mixup 0.8 / CutMix 1.0 otherwise, as the official DeiT configs; with
# Progressive Attention Labeling on (the official configs ship it off:
# set pal=False for MaskMix alone).
_base_ = '../smmix/deit-small_mixup-cutmix_4xb256_in1k.py'

model = dict(
    train_cfg=dict(
        _delete_=True,
        augments=[
            dict(type='Mixup', alpha=0.8),
            dict(type='CutMix', alpha=1.0),
            dict(type='MixPro', alpha=1.0, cell_tokens=4, pal=True)
        ],
        probs=[0.25, 0.25, 0.5]))
