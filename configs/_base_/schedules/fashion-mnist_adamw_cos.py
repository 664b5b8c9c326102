# AdamW, linear warm-up over the first 200 iterations, cosine to the end of
# train_cfg.max_epochs (so --cfg-options train_cfg.max_epochs=N just works).
optim_wrapper = dict(
    optimizer=dict(
        type='AdamW', lr=2e-3, weight_decay=0.05, betas=(0.9, 0.999)),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        custom_keys={
            '.cls_token': dict(decay_mult=0.0),
            '.pos_embed': dict(decay_mult=0.0)
        }),
)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=False, end=200),
    dict(
        type='CosineAnnealingLR',
        eta_min=1e-5,
        by_epoch=True,
        convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=8, val_interval=8)
val_cfg = dict()
test_cfg = dict()
