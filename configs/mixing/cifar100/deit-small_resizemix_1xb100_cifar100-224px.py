# CIFAR-100 suite, MMPretrain's ResizeMix alone (alpha 1.0, box scale in
# [0.1, 0.8], every batch; LabelSmoothLoss 0.1): the recipe of
# ./deit-small_mixup-cutmix_1xb100_cifar100-224px.py with the mixing of
# ../deit-small_resizemix_4xb256_in1k.py.
_base_ = './deit-small_mixup-cutmix_1xb100_cifar100-224px.py'

model = dict(
    train_cfg=dict(
        _delete_=True,
        augments=dict(type='ResizeMix', alpha=1.0, lam_min=0.1,
                      lam_max=0.8)))
