# Swin-mini baseline: no batch mixing (label smoothing 0.1 only). The
# Fashion-MNIST ViT's data, schedule and runtime; the relative position bias
# tables without weight decay, as MMPretrain's Swin recipes.
_base_ = [
    '../_base_/models/swin-mini-p2_28px.py',
    '../_base_/datasets/fashion-mnist_bs64.py',
    '../_base_/schedules/fashion-mnist_adamw_cos.py',
    '../_base_/default_runtime.py'
]
optim_wrapper = dict(
    paramwise_cfg=dict(
        custom_keys={'.relative_position_bias_table': dict(decay_mult=0.0)}))
