# DeiT-S with MMPretrain's ResizeMix alone (Qin et al., 2020): the DeiT
# recipe of ../smmix/deit-small_mixup-cutmix_4xb256_in1k.py with every batch
# ResizeMix (the partner image resized into a box of scale in [0.1, 0.8],
# alpha 1.0: the parameters of the Fashion-MNIST config
# ../fashion_mnist/vit-mini-p7_resizemix_1xb64_fmnist.py) instead of Mixup
# or CutMix; label smoothing 0.1 in the head, as there.
_base_ = '../smmix/deit-small_mixup-cutmix_4xb256_in1k.py'

model = dict(
    train_cfg=dict(
        _delete_=True,
        augments=dict(type='ResizeMix', alpha=1.0, lam_min=0.1,
                      lam_max=0.8)))
