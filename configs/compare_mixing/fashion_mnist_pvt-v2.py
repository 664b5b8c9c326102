# The Fashion-MNIST comparison on PVT-v2 (timm's, no class token): a 2-stage
# PVT-v2 (configs/_base_/models/pvt-v2-mini_56px.py) on the images resized
# to 56 px (timm's stem has stride 4): a 14x14 stage with keys reduced 2x,
# then a 7x7 one with full attention, the grid SMMix and TransMix ('pooled',
# ours) read. The ViT suite's data and schedule (5,000 images, 40 epochs),
# 2 seeds: a step costs 1.4-1.6x the ViT's on a CPU (about 7-8 minutes a
# run on 2 cores). Corruptions act on the 56-px images.
dataset = 'Fashion-MNIST'
model = 'PVT-v2-mini, 56 px (7x7 last stage)'
methods = dict(
    nomix=dict(
        config='../fashion_mnist/pvt-v2-mini_nomix_1xb64_fmnist.py',
        label='PVT-v2: no mixing'),
    cutmix=dict(
        config='../fashion_mnist/pvt-v2-mini_cutmix_1xb64_fmnist.py',
        label='PVT-v2: CutMix'),
    mixup_cutmix=dict(
        config='../fashion_mnist/pvt-v2-mini_mixup-cutmix_1xb64_fmnist.py',
        label='PVT-v2: Mixup + CutMix'),
    mixpro=dict(
        config='../fashion_mnist/pvt-v2-mini_mixpro_1xb64_fmnist.py',
        label='PVT-v2: MixPro'),
    transmix=dict(
        config='../fashion_mnist/pvt-v2-mini_transmix_1xb64_fmnist.py',
        label='PVT-v2: TransMix pooled (ours)'),
    smmix=dict(
        config='../fashion_mnist/pvt-v2-mini_smmix_1xb64_fmnist.py',
        label='PVT-v2: SMMix'),
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
