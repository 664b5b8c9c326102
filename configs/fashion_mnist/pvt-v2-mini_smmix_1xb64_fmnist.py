# PVT-v2-mini + SMMix, the official recipe: SMMix or Mixup(0.8) per batch,
# smoothing 0.1 (soft cross-entropy head), regions int(7*0.25)..int(7*0.75)
# = 1..5 on the last stage's 7x7 grid (8x8-px cells at 56 px), the 'patch'
# statistic of its last block (full attention, sr_ratio 1). No neck:
# SMMixClsHead classifies the mean of the 7x7 map, its token head reads it.
_base_ = './pvt-v2-mini_nomix_1xb64_fmnist.py'
model = dict(
    type='MixImageClassifier',
    neck=None,
    head=dict(
        _delete_=True,
        type='SMMixClsHead',
        num_classes=10,
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', use_soft=True)),
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
