# The default comparison (tools/benchmark/compare_mixing.py): every method of
# the toolbox on real Fashion-MNIST with the same 4-layer ViT, data, schedule
# and seeds, small enough for a CPU (about 5 minutes a run on 2 cores of an
# Intel Xeon with AVX-512, float32).
# 'default': patch 4 (a 7x7 token grid of 4x4-px cells), the first 5,000
# training images, 40 epochs: long enough for Mixup/CutMix to beat no
# mixing (at 30 epochs no mixing still leads, see docs/benchmarks.md).
# 'quick': a smoke test of the whole pipeline in seconds per run.
dataset = 'Fashion-MNIST'
model = 'ViT-mini, patch 4 (7x7 tokens)'
methods = dict(
    nomix='../fashion_mnist/vit-mini-p7_nomix_1xb64_fmnist.py',
    mixup='../fashion_mnist/vit-mini-p7_mixup_1xb64_fmnist.py',
    cutmix='../fashion_mnist/vit-mini-p7_cutmix_1xb64_fmnist.py',
    mixup_cutmix='../fashion_mnist/vit-mini-p7_mixup-cutmix_1xb64_fmnist.py',
    resizemix='../fashion_mnist/vit-mini-p7_resizemix_1xb64_fmnist.py',
    fmix='../fashion_mnist/vit-mini-p7_fmix_1xb64_fmnist.py',
    transmix='../fashion_mnist/vit-mini-p7_transmix_1xb64_fmnist.py',
    mixpro='../fashion_mnist/vit-mini-p7_mixpro_1xb64_fmnist.py',
    smmix='../fashion_mnist/vit-mini-p7_smmix_1xb64_fmnist.py',
    smmix_dm='../fashion_mnist/vit-mini-p7_smmix-dm_1xb64_fmnist.py',
    rankmixup='../fashion_mnist/vit-mini-p7_rankmixup_1xb64_fmnist.py',
)
cfg_options = {'model.backbone.patch_size': 4}
settings = dict(
    default=dict(
        train_images=5000,
        epochs=40,
        corruption_images=500,
        corruptions='all',
        severity=3,
        seeds=3,
        timing_rounds=20,
        timing_warmup=2),
    quick=dict(
        train_images=128,
        epochs=1,
        test_images=200,
        corruption_images=40,
        corruptions='gaussian_noise,contrast',
        severity=3,
        seeds=1,
        timing_rounds=2,
        timing_warmup=1),
)
highlight = ['smmix', 'smmix_dm']
