"""The ImageNet-1k DeiT SMMix configs: parse, build, one SMMix train step."""
import math
import os.path as osp

import mmpretrain
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample

import mmsmmix  # noqa: F401  (registers modules)
from mmsmmix.models import MixImageClassifier, SMMix, SMMixClsHead
from tests.helpers import build_config_model, load_smmix_config, record_mixes

MMPRETRAIN_CONFIGS = osp.join(
    osp.dirname(mmpretrain.__file__), '.mim', 'configs')

# config file, backbone arch, token width
DEIT_CONFIGS = [
    ('deit-tiny_smmix_4xb256_in1k.py', 'deit-tiny', 192),
    ('deit-small_smmix_4xb256_in1k.py', 'deit-small', 384),
    ('deit-base_smmix_4xb256_in1k.py', 'deit-base', 768),
]


@pytest.mark.parametrize('name,arch,channels', DEIT_CONFIGS)
def test_deit_smmix_recipe(name, arch, channels):
    cfg = load_smmix_config(name)

    assert cfg.custom_imports == dict(
        imports=['mmsmmix'], allow_failed_imports=False)
    assert cfg.find_unused_parameters is True

    # Model: SMMix wiring.
    assert cfg.model.type == 'MixImageClassifier'
    assert cfg.model.backbone.arch == arch
    assert cfg.model.backbone.out_type == 'raw'
    assert cfg.model.backbone.drop_path_rate == 0.1
    assert cfg.model.head.type == 'SMMixClsHead'
    assert cfg.model.head.in_channels == channels
    assert cfg.model.head.loss == dict(type='CrossEntropyLoss', use_soft=True)
    aug = cfg.model.train_cfg.augments
    assert aug.type == 'SMMix'
    assert aug.switch_prob == 0.5
    assert aug.mixup_alpha == 0.8
    assert aug.label_smoothing == 0.1
    assert (aug.min_side_ratio, aug.max_side_ratio) == (0.25, 0.75)
    assert aug.attn_stat == 'patch'
    # CutMix (and anything else inherited) is gone.
    assert set(cfg.model.train_cfg) == {'augments'}

    # Data: MMPretrain's swin-224 train pipeline minus RandomErasing.
    pipeline = cfg.train_dataloader.dataset.pipeline
    assert 'RandomErasing' not in [t['type'] for t in pipeline]
    swin = Config.fromfile(
        osp.join(MMPRETRAIN_CONFIGS, '_base_', 'datasets',
                 'imagenet_bs64_swin_224.py'))
    expected = [
        t for t in swin.train_pipeline if t['type'] != 'RandomErasing'
    ]
    assert len(expected) == len(swin.train_pipeline) - 1
    assert [dict(t) for t in pipeline] == [dict(t) for t in expected]
    assert cfg.train_dataloader.dataset.data_root == 'data/imagenet'
    assert cfg.train_dataloader.sampler.type == 'DefaultSampler'

    # Schedule: 4 x 256 at lr 1e-3, 300 epochs; no EMA.
    assert cfg.train_dataloader.batch_size == 256
    assert math.isclose(cfg.optim_wrapper.optimizer.lr, 1e-3, rel_tol=1e-12)
    assert cfg.optim_wrapper.optimizer.type == 'AdamW'
    assert cfg.optim_wrapper.optimizer.weight_decay == 0.05
    assert cfg.train_cfg.max_epochs == 300
    assert cfg.auto_scale_lr.base_batch_size == 1024
    hooks = [h['type'] for h in cfg.get('custom_hooks', [])]
    assert 'EMAHook' not in hooks
    assert 'RandomStateHook' in hooks


@pytest.mark.parametrize('name,arch,channels', [
    DEIT_CONFIGS[0],  # DeiT-T; larger models' steps are slow
    *[pytest.param(*c, marks=pytest.mark.slow) for c in DEIT_CONFIGS[1:]]
])
def test_deit_smmix_train_step(name, arch, channels):
    cfg = load_smmix_config(name)
    cfg.model.train_cfg.augments.switch_prob = 1.0  # always the SMMix branch
    model = build_config_model(cfg)
    assert isinstance(model, MixImageClassifier)
    assert isinstance(model.head, SMMixClsHead)
    assert model.backbone.embed_dims == channels
    assert model.head.token_head.in_features == channels
    assert model.head.token_head.out_features == 1000
    assert model.backbone.patch_resolution == (14, 14)
    aug = model.augments[0]
    assert isinstance(aug, SMMix) and aug.switch_prob == 1.0
    mixes = record_mixes(aug)

    data = dict(
        inputs=[
            torch.randint(0, 256, (3, 224, 224), dtype=torch.uint8)
            for _ in range(2)
        ],
        data_samples=[DataSample().set_gt_label(label) for label in (3, 7)])
    optim_wrapper = OptimWrapper(
        torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.))
    token_head_before = model.head.token_head.weight.detach().clone()
    model.train()
    log_vars = model.train_step(data, optim_wrapper)

    (drawn, ) = [m.info for m in mixes]
    assert drawn['branch'] == 'smmix'
    assert 3 <= drawn['region_size'] <= 10  # sides 3..10 on the 14x14 grid
    for key in ('loss_cls', 'loss_fine', 'loss_con'):
        assert key in log_vars, f'{key} missing from {list(log_vars)}'
        assert math.isfinite(float(log_vars[key])), (key, log_vars[key])
    assert float(log_vars['loss_cls']) > 0
    assert float(log_vars['loss_fine']) > 0
    assert float(log_vars['loss_con']) >= -1e-6  # a KL divergence
    # The step updated the token head, which only loss_fine trains (no
    # weight decay here, so a change means a non-zero gradient).
    assert not torch.equal(model.head.token_head.weight, token_head_before)
