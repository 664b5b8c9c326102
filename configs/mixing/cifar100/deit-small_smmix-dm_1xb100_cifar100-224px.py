# CIFAR-100 suite, SMMix + Decoupled Mixup (the decoupled regulariser, eta
# 0.1, in the head's loss): the recipe of
# ./deit-small_smmix_1xb100_cifar100-224px.py with the loss of
# ../deit-small_smmix-dm_4xb256_in1k.py. eta stays at the authors' ImageNet
# value, so that the method is the one of the ImageNet config.
_base_ = './deit-small_smmix_1xb100_cifar100-224px.py'

model = dict(
    head=dict(
        loss=dict(
            _delete_=True,
            type='DecoupledMixupLoss',
            eta=0.1,
            label_smoothing=0.1)))
