# CIFAR-100 suite, TransMix (TransMix 0.8 / Mixup 0.2 per batch, labels from
# the mixed forward's attention on the 14x14 grid; LabelSmoothLoss 0.1): the
# recipe of ./deit-small_mixup-cutmix_1xb100_cifar100-224px.py with the
# mixing of ../deit-small_transmix_4xb256_in1k.py (no model EMA, as there).
_base_ = './deit-small_mixup-cutmix_1xb100_cifar100-224px.py'

model = dict(
    train_cfg=dict(
        _delete_=True,
        augments=[
            dict(type='Mixup', alpha=0.8),
            dict(type='TransMix', alpha=1.0)
        ],
        probs=[0.2, 0.8]))
