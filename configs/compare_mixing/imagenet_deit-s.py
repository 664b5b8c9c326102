# DeiT-S on ImageNet-1k, 300 epochs, DeiT's recipe with each method in
# CutMix's place: configs/smmix/deit-small_{smmix,mixup-cutmix}_4xb256_in1k.py
# and configs/mixing/deit-small_<method>_4xb256_in1k.py (4 GPUs x 256 as
# written; ImageNet in data/imagenet, MMPretrain's layout). One seed by
# default (a run is days of GPU time): --seeds 3 adds two more, reusing it.
#   python tools/benchmark/compare_mixing.py --suite imagenet_deit-s \
#       --device cuda --launcher slurm --partition PART --gpus-per-run 4
dataset = 'ImageNet-1k'
model = 'DeiT-S, 224 px'
_mixing = '../mixing/deit-small_{}_4xb256_in1k.py'
_smmix = '../smmix/deit-small_{}_4xb256_in1k.py'
methods = dict(
    nomix=_mixing.format('nomix'),
    mixup=_mixing.format('mixup'),
    cutmix=_mixing.format('cutmix'),
    mixup_cutmix=_smmix.format('mixup-cutmix'),
    resizemix=_mixing.format('resizemix'),
    fmix=_mixing.format('fmix'),
    transmix=_mixing.format('transmix'),
    mixpro=_mixing.format('mixpro'),
    smmix=_smmix.format('smmix'),
    smmix_dm=_mixing.format('smmix-dm'),
    rankmixup=_mixing.format('rankmixup'),
)
settings = dict(
    default=dict(
        epochs=300,
        seeds=1,
        corruptions='all',
        corruption_images=10000,
        severity=3,
        timing_rounds=10,
        timing_warmup=2),
)
highlight = ['smmix', 'smmix_dm']
