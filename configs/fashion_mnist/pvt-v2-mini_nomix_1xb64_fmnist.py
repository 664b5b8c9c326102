# PVT-v2-mini baseline: no batch mixing (label smoothing 0.1 only). The
# Fashion-MNIST ViT's data, schedule and runtime, the images resized to
# 56x56 (bilinear) for timm's stride-4 stem: Corrupt (tools/test.py
# --corruption) goes before PackInputs, so corruptions act at 56 px.
_base_ = [
    '../_base_/models/pvt-v2-mini_56px.py',
    '../_base_/datasets/fashion-mnist_bs64.py',
    '../_base_/schedules/fashion-mnist_adamw_cos.py',
    '../_base_/default_runtime.py'
]
train_pipeline = [
    dict(type='Resize', scale=(56, 56)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='Resize', scale=(56, 56)),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
