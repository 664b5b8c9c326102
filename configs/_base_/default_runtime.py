# MMPretrain's runtime defaults, plus the import that registers mmsmmix.
_base_ = 'mmpretrain::_base_/default_runtime.py'
custom_imports = dict(imports=['mmsmmix'], allow_failed_imports=False)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2))
# Checkpoints carry every random state: --resume equals the uninterrupted run.
# CompileHook: compile=True (--cfg-options compile=True, or
# compile.backend=aot_eager) compiles the backbone and neck, not the whole
# train_step; it does nothing without `compile`.
custom_hooks = [dict(type='RandomStateHook'), dict(type='CompileHook')]
randomness = dict(seed=0)
env_cfg = dict(dist_cfg=dict(backend='gloo'))
