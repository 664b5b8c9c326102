# DeiT-S at 224 px trained from scratch on CIFAR-100 with OpenMixup's public
# 200-epoch recipe (configs/mixing/cifar100/README.md), every method of the
# toolbox: OpenMixup's CIFAR-100 table reproduced and extended with SMMix,
# MixPro, Decoupled Mixup and RankMixup. CIFAR-100 is read from
# data/cifar100/cifar-100-python/ (or --cfg-options
# train_dataloader.dataset.data_root=DIR val_dataloader.dataset.data_root=DIR).
# The recipe is 1 GPU x 100 a run; on an 8-GPU machine, 8 runs at once:
#   python tools/benchmark/compare_mixing.py --suite cifar100_deit-s \
#       --device cuda --jobs 8
# With --launcher pytorch --gpus-per-run N the batch is N x 100, alike for
# every method (MMPretrain's auto_scale_lr stays off unless you turn it on).
dataset = 'CIFAR-100'
model = 'DeiT-S, 224 px'
_dir = '../mixing/cifar100/deit-small_{}_1xb100_cifar100-224px.py'
methods = dict(
    nomix=_dir.format('nomix'),
    mixup=_dir.format('mixup'),
    cutmix=_dir.format('cutmix'),
    mixup_cutmix=_dir.format('mixup-cutmix'),
    resizemix=_dir.format('resizemix'),
    fmix=_dir.format('fmix'),
    transmix=_dir.format('transmix'),
    mixpro=_dir.format('mixpro'),
    smmix=_dir.format('smmix'),
    smmix_dm=_dir.format('smmix-dm'),
    rankmixup=_dir.format('rankmixup'),
)
settings = dict(
    default=dict(
        epochs=200,
        seeds=3,
        corruptions='all',
        severity=3,
        timing_rounds=20,
        timing_warmup=2),
    quick=dict(
        epochs=1,
        train_images=200,
        test_images=200,
        corruptions='gaussian_noise',
        corruption_images=50,
        seeds=1),
)
highlight = ['smmix', 'smmix_dm']
