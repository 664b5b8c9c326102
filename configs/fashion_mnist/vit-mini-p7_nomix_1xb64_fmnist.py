# Baseline: no batch mixing (label smoothing 0.1 only).
_base_ = [
    '../_base_/models/vit-mini-p7_28px.py',
    '../_base_/datasets/fashion-mnist_bs64.py',
    '../_base_/schedules/fashion-mnist_adamw_cos.py',
    '../_base_/default_runtime.py'
]
