# CIFAR-100 suite, RankMixup (clean batch with the recipe's LabelSmoothLoss
# 0.1, plus 0.1 * MRL, margin 1.0, against one Mixup batch of alpha 1.0
# forwarded with gradient: about two forwards a step): the recipe of
# ./deit-small_mixup-cutmix_1xb100_cifar100-224px.py with the mixing of
# ../deit-small_rankmixup_4xb256_in1k.py. The official CIFAR setting (plain
# CE, margin 2.0, alpha 2.0, on CNNs) is not used, so that the method is the
# one of the ImageNet config.
_base_ = './deit-small_mixup-cutmix_1xb100_cifar100-224px.py'

model = dict(
    train_cfg=dict(
        _delete_=True,
        augments=dict(
            type='RankMixup',
            alpha=1.0,
            num_mixups=1,
            loss=dict(
                type='RankMixupLoss', mode='mrl', margin=1.0,
                loss_weight=0.1))))
