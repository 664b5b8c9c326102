# RankMixup (Noh et al., ICCV 2023), MRL as in the official CIFAR configs:
# cross-entropy on the clean batch (no label smoothing, as official) plus
# 0.1 * the ranking hinge (margin 2.0) against one Mixup batch (alpha 2.0)
# forwarded with gradient in the same step.
_base_ = './vit-mini-p7_nomix_1xb64_fmnist.py'
model = dict(
    type='MixImageClassifier',
    head=dict(loss=dict(_delete_=True, type='CrossEntropyLoss')),
    train_cfg=dict(
        augments=dict(
            type='RankMixup',
            alpha=2.0,
            num_mixups=1,
            loss=dict(
                type='RankMixupLoss', mode='mrl', margin=2.0,
                loss_weight=0.1))))
