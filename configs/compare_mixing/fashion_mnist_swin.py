# The Fashion-MNIST comparison on a hierarchical backbone without a class
# token: a 2-stage Swin (configs/_base_/models/swin-mini-p2_28px.py: patch
# 2, a 14x14 grid in 4 shifted windows, then a 7x7 one of 4x4-px cells, as
# the ViT suite's grid), the methods that read attention there (SMMix, and
# TransMix with our 'pooled' statistic) and their baselines. The ViT
# suite's data and schedule (5,000 images, 40 epochs), 2 seeds: a step
# costs 1.4-1.7x the ViT's on a CPU (about 7-8 minutes a run on 2 cores).
dataset = 'Fashion-MNIST'
model = 'Swin-mini, patch 2 (7x7 last stage)'
methods = dict(
    nomix=dict(
        config='../fashion_mnist/swin-mini-p2_nomix_1xb64_fmnist.py',
        label='Swin: no mixing'),
    cutmix=dict(
        config='../fashion_mnist/swin-mini-p2_cutmix_1xb64_fmnist.py',
        label='Swin: CutMix'),
    mixup_cutmix=dict(
        config='../fashion_mnist/swin-mini-p2_mixup-cutmix_1xb64_fmnist.py',
        label='Swin: Mixup + CutMix'),
    mixpro=dict(
        config='../fashion_mnist/swin-mini-p2_mixpro_1xb64_fmnist.py',
        label='Swin: MixPro'),
    transmix=dict(
        config='../fashion_mnist/swin-mini-p2_transmix_1xb64_fmnist.py',
        label='Swin: TransMix pooled (ours)'),
    smmix=dict(
        config='../fashion_mnist/swin-mini-p2_smmix_1xb64_fmnist.py',
        label='Swin: SMMix'),
)
settings = dict(
    default=dict(
        train_images=5000,
        epochs=40,
        corruption_images=500,
        corruptions='all',
        severity=3,
        seeds=2,
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
highlight = ['smmix']
