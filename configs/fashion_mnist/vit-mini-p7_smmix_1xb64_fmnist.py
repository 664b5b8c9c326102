# SMMix, official recipe: SMMix or Mixup(0.8) per batch, smoothing 0.1,
# region sides int(4*0.25)..int(4*0.75) = 1..3 on the 4x4 token grid
# (7x7-pixel cells), patch-to-patch attention of the last block.
_base_ = './vit-mini-p7_nomix_1xb64_fmnist.py'
model = dict(
    type='MixImageClassifier',
    backbone=dict(out_type='raw'),
    head=dict(
        type='SMMixClsHead',
        loss=dict(_delete_=True, type='CrossEntropyLoss', use_soft=True)),
    train_cfg=dict(augments=dict(
        type='SMMix',
        switch_prob=0.5,
        mixup_alpha=0.8,
        label_smoothing=0.1,
        min_side_ratio=0.25,
        max_side_ratio=0.75,
        attn_stat='patch')),
)
# token_head gets no gradient in Mixup batches.
find_unused_parameters = True
