# Swin-T baseline for the SMMix comparison: MMPretrain's Swin-T ImageNet
# recipe, swin_transformer/swin-tiny_16xb64_in1k.py, unchanged (Mixup 0.8 or
# CutMix 1.0 per batch, label smoothing 0.1, RandomErasing 0.25, AdamW
# 5e-4 x 1024/512 with 20 warm-up epochs, gradient clipping 5.0, stochastic
# depth 0.2, 300 epochs at 16 x 64; MMPretrain's result 81.18 top-1), run by
# MixImageClassifier (the same mixing maths, drawn identically on every
# rank, the non-finite guard) with RandomStateHook (exact resume) and the
# best-top-1 checkpoint kept, as our other configs.
_base_ = 'mmpretrain::swin_transformer/swin-tiny_16xb64_in1k.py'

custom_imports = dict(imports=['mmsmmix'], allow_failed_imports=False)

model = dict(type='MixImageClassifier')
# CompileHook: what --cfg-options compile=True compiles (no-op without it).
custom_hooks = [dict(type='RandomStateHook'), dict(type='CompileHook')]
default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook',
        interval=1,
        max_keep_ckpts=2,
        save_best='accuracy/top1',
        rule='greater'))
