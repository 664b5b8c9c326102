# Baseline: MMPretrain's ResizeMix (Qin et al., 2020): the partner image
# resized to a box of scale in [0.1, 0.8], every batch; label smoothing 0.1.
_base_ = './vit-mini-p7_nomix_1xb64_fmnist.py'
model = dict(
    type='MixImageClassifier',
    train_cfg=dict(
        augments=dict(type='ResizeMix', alpha=1.0, lam_min=0.1,
                      lam_max=0.8)))
