# MixPro (Zhao et al., ICLR 2023): MaskMix on cells of one token (7x7 px on
# the 4x4 grid) with Progressive Attention Labeling, switched as in the
# official DeiT configs: MaskMix p=0.5, else Mixup 0.8 or CutMix 1.0.
_base_ = './vit-mini-p7_nomix_1xb64_fmnist.py'
model = dict(
    type='MixImageClassifier',
    train_cfg=dict(
        augments=[
            dict(type='Mixup', alpha=0.8),
            dict(type='CutMix', alpha=1.0),
            dict(type='MixPro', alpha=1.0, cell_tokens=1, pal=True)
        ],
        probs=[0.25, 0.25, 0.5]))
