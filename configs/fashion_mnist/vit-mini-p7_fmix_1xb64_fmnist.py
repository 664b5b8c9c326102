# FMix (Harris et al., 2020): low-frequency Fourier masks, lam ~ Beta(1, 1),
# decay power 3, label smoothing 0.1 in the head (as the other baselines).
_base_ = './vit-mini-p7_nomix_1xb64_fmnist.py'
model = dict(
    type='MixImageClassifier',
    train_cfg=dict(augments=dict(type='FMix', alpha=1.0, decay_power=3.0)))
