"""Every ImageNet-1k config of the paper's nine models (configs/smmix/):
SMMix configs build and run one SMMix step on the expected token grid;
baseline configs build and run one Mixup/CutMix step; recipe points."""
import glob
import math
import os.path as osp

import pytest
import torch
from mmengine.optim import OptimWrapper
from mmpretrain.models.losses import LabelSmoothLoss
from mmpretrain.structures import DataSample

from mmsmmix.models import MixImageClassifier
from mmsmmix.models.probes import build_attention_probe
from tests.helpers import (SMMIX_CONFIGS, build_config_model,
                           load_smmix_config, record_mixes)

MODELS_ = {  # config prefix: (backbone type, token width, grid side)
    'deit-tiny': ('VisionTransformer', 192, 14),
    'deit-small': ('VisionTransformer', 384, 14),
    'deit-base': ('VisionTransformer', 768, 14),
    'cait-xxs24': ('CaiT', 192, 14),
    'cait-xxs36': ('CaiT', 192, 14),
    'pvt-tiny': ('PyramidVisionTransformerV1', 512, 7),
    'pvt-small': ('PyramidVisionTransformerV1', 512, 7),
    'pvt-medium': ('PyramidVisionTransformerV1', 512, 7),
    'pvt-large': ('PyramidVisionTransformerV1', 512, 7),
}
NEW = [m for m in MODELS_ if not m.startswith('deit')]  # DeiT: own tests


def smallest_fast(names):
    """``names`` for parametrize: a train step at 224 px is slow (tens of
    seconds on 2 cores) but for DeiT-T and PVT-T."""
    return [n if n in ('deit-tiny', 'pvt-tiny') else
            pytest.param(n, marks=pytest.mark.slow) for n in names]


def test_every_model_has_an_smmix_and_a_baseline_config():
    names = {osp.basename(p) for p in glob.glob(f'{SMMIX_CONFIGS}/*.py')}
    expected = {f'{m}_{kind}_4xb256_in1k.py' for m in MODELS_
                for kind in ('smmix', 'mixup-cutmix')}
    # backbones without a class token: test_hierarchical_configs.py
    expected |= {f'{m}_{kind}_{setting}_in1k.py'
                 for m, setting in (('swin-tiny', '16xb64'),
                                    ('pvt-v2-b2', '4xb256'))
                 for kind in ('smmix', 'mixup-cutmix')}
    assert names == expected


def _data():
    return dict(
        inputs=[
            torch.randint(0, 256, (3, 224, 224), dtype=torch.uint8)
            for _ in range(2)
        ],
        data_samples=[DataSample().set_gt_label(label) for label in (3, 7)])


def _step(model):
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-3))
    model.train()
    return model.train_step(_data(), optim)


@pytest.mark.parametrize('name', smallest_fast(NEW))
def test_smmix_config_step_on_expected_grid(name):
    kind, width, side = MODELS_[name]
    cfg = load_smmix_config(f'{name}_smmix_4xb256_in1k.py')
    cfg.model.train_cfg.augments.switch_prob = 1.0  # the SMMix branch
    model = build_config_model(cfg)
    assert type(model.backbone).__name__ == kind
    assert model.head.token_head.in_features == width
    record, size = build_attention_probe(model.backbone).configured_layout()
    assert size == (224, 224) and record.grid == (side, side)

    mixes = record_mixes(model.augments[0])
    log_vars = _step(model)
    (drawn, ) = [m.info for m in mixes]
    assert drawn['branch'] == 'smmix'
    assert int(side * .25) <= drawn['region_size'] <= int(side * .75)
    for key in ('loss_cls', 'loss_fine', 'loss_con'):
        assert math.isfinite(float(log_vars[key])), (key, log_vars)
    assert float(log_vars['loss_fine']) > 0


@pytest.mark.parametrize('name', smallest_fast(MODELS_))
def test_baseline_config_step(name):
    kind, width, _ = MODELS_[name]
    cfg = load_smmix_config(f'{name}_mixup-cutmix_4xb256_in1k.py')
    model = build_config_model(cfg)
    assert isinstance(model, MixImageClassifier)
    assert type(model.backbone).__name__ == kind
    assert [a.name for a in model.augments] == ['Mixup', 'CutMix']
    assert isinstance(model.head.loss_module, LabelSmoothLoss)
    assert model.head.layers.head.in_features == width
    log_vars = _step(model)
    assert set(log_vars) == {'loss'}  # VisionTransformerClsHead's name
    assert math.isfinite(float(log_vars['loss']))


@pytest.mark.parametrize('kind', ['smmix', 'mixup-cutmix'])
@pytest.mark.parametrize('name', list(MODELS_))
def test_recipe_points(name, kind):
    """Best-top-1 checkpoint, bounded checkpoints, exact resume, official
    head init; PVT's own drop path, clipping and weight-decay exemptions."""
    cfg = load_smmix_config(f'{name}_{kind}_4xb256_in1k.py')
    ckpt = cfg.default_hooks.checkpoint
    assert (ckpt.save_best, ckpt.rule, ckpt.max_keep_ckpts) == (
        'accuracy/top1', 'greater', 2)
    assert 'RandomStateHook' in [h.type for h in cfg.custom_hooks]
    assert cfg.model.head.init_cfg == dict(
        type='TruncNormal', layer='Linear', std=.02, bias=0.)
    backbone = cfg.model.backbone
    if name.startswith('pvt'):
        big = name in ('pvt-medium', 'pvt-large')
        assert backbone.drop_path_rate == (0.3 if big else 0.1)
        clip = cfg.optim_wrapper.get('clip_grad')
        assert clip == (dict(max_norm=1.0) if big else None)
        assert cfg.optim_wrapper.paramwise_cfg.custom_keys == {
            '.cls_token': dict(decay_mult=0.0)}
    else:
        assert backbone.drop_path_rate == 0.1
        assert cfg.optim_wrapper.clip_grad == dict(max_norm=5.0)


def test_smmix_heads_start_trunc_normal():
    """After init_weights both heads hold N(0, 0.02) weights and zero
    biases (the official init), not MMPretrain's zeros."""
    model = build_config_model(
        load_smmix_config('pvt-tiny_smmix_4xb256_in1k.py'))
    model.init_weights()
    for linear in (model.head.layers.head, model.head.token_head):
        assert linear.weight.std().item() == pytest.approx(0.02, rel=0.05)
        assert abs(linear.weight.mean().item()) < 1e-3
        assert torch.count_nonzero(linear.bias) == 0


def test_metafile_lists_every_config_with_real_sizes():
    """metafile.yml (MMPretrain model-zoo format) names each config once, and
    its parameter count is that of the model the config builds."""
    import yaml
    with open(osp.join(SMMIX_CONFIGS, 'metafile.yml')) as f:
        meta = yaml.safe_load(f)
    configs = sorted(m['Config'] for m in meta['Models'])
    files = sorted(
        osp.relpath(p, osp.dirname(osp.dirname(SMMIX_CONFIGS)))
        for p in glob.glob(f'{SMMIX_CONFIGS}/*.py'))
    assert configs == files
    entry = next(m for m in meta['Models']
                 if m['Name'] == 'pvt-small_smmix_4xb256_in1k')
    model = build_config_model(
        load_smmix_config('pvt-small_smmix_4xb256_in1k.py'))
    params = sum(p.numel() for p in model.parameters())
    assert entry['Metadata']['Parameters'] == pytest.approx(params, rel=1e-3)


@pytest.mark.slow
def test_cait_cls_statistic_trains():
    """attn_stat='cls' on CaiT reads the class-attention block (1 query
    row, one extra token) and the SMMix step runs on the 14x14 grid."""
    cfg = load_smmix_config('cait-xxs24_smmix_4xb256_in1k.py')
    cfg.model.train_cfg.augments.update(switch_prob=1.0, attn_stat='cls')
    model = build_config_model(cfg)
    _, record = model.mix_context.clean_forward(
        torch.randn(2, 3, 224, 224), 'cls')
    assert record.attn.shape == (2, 4, 1, 197) and record.grid == (14, 14)
    mixes = record_mixes(model.augments[0])
    log_vars = _step(model)
    assert [m.info['branch'] for m in mixes] == ['smmix']
    assert math.isfinite(float(log_vars['loss_fine']))
