# DeiT-S with RankMixup (Noh et al., ICCV 2023) in place of DeiT's
# Mixup/CutMix: every batch trains on the clean images (the recipe's
# label-smoothed cross-entropy) plus 0.1 * MRL against one Mixup batch
# forwarded with gradient (so a step costs about two forwards). RankMixup
# was published on CNNs (CIFAR, Tiny-ImageNet, ImageNet ResNet-50) with no
# ViT recipe: the margin is its Tiny-ImageNet/ImageNet 1.0 and Mixup's alpha
# its default 1.0; the rest is DeiT's recipe.
_base_ = '../smmix/deit-small_mixup-cutmix_4xb256_in1k.py'

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
