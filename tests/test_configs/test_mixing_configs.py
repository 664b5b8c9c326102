"""configs/mixing/: each method's DeiT-S ImageNet config builds and trains
one step at 224 px (batch 2)."""
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample

from mmsmmix.models.augments import FMix
from mmsmmix.models.losses import DecoupledMixupLoss
from tests.helpers import REPO_ROOT, build_config_model

pytestmark = pytest.mark.slow  # DeiT-S steps at 224 px
MIXING = osp.join(REPO_ROOT, 'configs', 'mixing')


def _step(name, **augment_update):
    cfg = Config.fromfile(osp.join(MIXING, name))
    model = build_config_model(cfg)
    data = dict(
        inputs=[torch.randint(0, 256, (3, 224, 224), dtype=torch.uint8)
                for _ in range(2)],
        data_samples=[DataSample().set_gt_label(k) for k in (3, 7)])
    model.train()
    return model, model.train_step(
        data, OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-3)))


def test_fmix_config():
    model, log_vars = _step('deit-small_fmix_4xb256_in1k.py')
    assert [a.name for a in model.augments] == ['Mixup', 'FMix']
    fmix = model.augments[1]
    assert isinstance(fmix, FMix) and fmix.alpha == 1.0
    images = torch.randn(2, 3, 224, 224)
    mask = fmix.mix(images, torch.eye(2)).info['mask']
    assert mask.shape == (224, 224)  # masks at the input size
    assert math.isfinite(float(log_vars['loss']))


def test_smmix_dm_config():
    model, log_vars = _step('deit-small_smmix-dm_4xb256_in1k.py')
    loss = model.head.loss_module
    assert isinstance(loss, DecoupledMixupLoss)
    assert (loss.eta, loss.label_smoothing) == (0.1, 0.1)
    assert all(math.isfinite(float(v)) for v in log_vars.values())


def test_transmix_config():
    model, log_vars = _step('deit-small_transmix_4xb256_in1k.py')
    assert [a.name for a in model.augments] == ['Mixup', 'TransMix']
    assert model.switch.probs == [0.2, 0.8]
    layout, _ = model.mix_context.configured_layout()
    assert tuple(layout.grid) == (14, 14)  # attention read on this grid
    assert math.isfinite(float(log_vars['loss']))


def test_mixpro_config():
    model, log_vars = _step('deit-small_mixpro_4xb256_in1k.py')
    (mixpro, ) = model.augments  # MaskMix, Mixup and CutMix in one loop
    assert type(mixpro).__name__ == 'MixPro'
    assert (mixpro.cell_tokens, mixpro.maskmix_prob, mixpro.label_smoothing,
            mixpro.area_lam) == (4, 0.5, 0.1, 'tokens')
    assert mixpro.pal
    assert model.mix_context.token_layout().patch_size == (16, 16)
    assert math.isfinite(float(log_vars['loss']))


def test_mixpro_official_geometry_config():
    """Patch 14 at 224 px: 4x4 cells of 4 tokens tile the 16x16 grid, and
    the cell share is the token share."""
    model, log_vars = _step('deit-small-p14_mixpro_4xb256_in1k.py')
    (mixpro, ) = model.augments
    assert (mixpro.masks, mixpro.partner, mixpro.area_lam) == (
        'per_sample', 'randperm', 'cells')
    layout = model.mix_context.token_layout()
    assert layout.patch_size == (14, 14) and tuple(layout.grid) == (16, 16)
    mixpro.maskmix_prob = 1.
    images = torch.randn(2, 3, 224, 224)
    batch = mixpro.mix(images, torch.eye(2),
                       model.mix_context).info['batch']
    assert torch.allclose(batch.lam_area, batch.tokens.mean(1))
    assert math.isfinite(float(log_vars['loss']))


def test_rankmixup_config():
    model, log_vars = _step('deit-small_rankmixup_4xb256_in1k.py')
    (rankmixup, ) = model.augments
    assert type(rankmixup).__name__ == 'RankMixup'
    assert (rankmixup.loss.mode, rankmixup.loss.margin) == ('mrl', 1.0)
    assert set(log_vars) >= {'loss', 'loss_rank'}
    assert all(math.isfinite(float(v)) for v in log_vars.values())
