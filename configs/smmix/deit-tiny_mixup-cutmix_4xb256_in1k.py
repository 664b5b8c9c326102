# DeiT-Tiny baseline for the SMMix comparison: DeiT's own recipe, i.e.
# MMPretrain's deit-tiny_4xb256_in1k.py (Mixup 0.8 or CutMix 1.0 per batch,
# label smoothing 0.1, RandomErasing 0.25, AdamW 1e-3 at 4 x 256, 300
# epochs) with DeiT's stochastic depth 0.1 (MMPretrain turns it off for
# DeiT-T; the DeiT paper and our SMMix configs use 0.1).
# As in the SMMix configs: heads start from trunc-normal(0.02) weights (as in
# DeiT's code; MMPretrain's ViT head starts at zero), MixImageClassifier (the
# same mixing maths, drawn identically on every rank, the non-finite guard),
# RandomStateHook (exact resume) and the best-top-1 checkpoint kept.
_base_ = 'mmpretrain::deit/deit-tiny_4xb256_in1k.py'

custom_imports = dict(imports=['mmsmmix'], allow_failed_imports=False)

model = dict(
    type='MixImageClassifier',
    backbone=dict(drop_path_rate=0.1),
    head=dict(
        init_cfg=dict(type='TruncNormal', layer='Linear', std=.02, bias=0.)),
)
# CompileHook: what --cfg-options compile=True compiles (no-op without it).
custom_hooks = [dict(type='RandomStateHook'), dict(type='CompileHook')]
default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook',
        interval=1,
        max_keep_ckpts=2,
        save_best='accuracy/top1',
        rule='greater'))
