# CIFAR-100 suite, no batch mixing (label smoothing 0.1 only): the recipe of
# ./deit-small_mixup-cutmix_1xb100_cifar100-224px.py with the mixing of
# ../deit-small_nomix_4xb256_in1k.py (an empty `augments`: every batch
# trains on its clean images).
_base_ = './deit-small_mixup-cutmix_1xb100_cifar100-224px.py'

model = dict(train_cfg=dict(_delete_=True, augments=[]))
