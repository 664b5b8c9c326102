"""Swin-T and PVT-v2-B2 configs (backbones without a class token): each
builds and runs one step of its method at 224 px, batch 2, with finite
losses on the expected 7x7 grid of 32-px cells; 'cls' is refused there."""
import math
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample

from tests.helpers import REPO_ROOT, build_config_model, record_mixes

CONFIGS = osp.join(REPO_ROOT, 'configs')
SWIN_SMMIX = 'smmix/swin-tiny_smmix_16xb64_in1k.py'
PVT2_SMMIX = 'smmix/pvt-v2-b2_smmix_4xb256_in1k.py'


def _cfg(name):
    return Config.fromfile(osp.join(CONFIGS, name))


def _step(model):
    data = dict(
        inputs=[torch.randint(0, 256, (3, 224, 224), dtype=torch.uint8)
                for _ in range(2)],
        data_samples=[DataSample().set_gt_label(k) for k in (3, 7)])
    model.train()
    return model.train_step(
        data, OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-3)))


@pytest.mark.parametrize('name, backbone', [
    (SWIN_SMMIX, 'SwinTransformer'),
    pytest.param(PVT2_SMMIX, 'PyramidVisionTransformerV2',
                 marks=pytest.mark.slow),
])
def test_smmix_config_step_on_the_last_stage_grid(name, backbone):
    """SMMix branch: windows on the 7x7 grid of 32-px cells (sides 1..5),
    the three losses finite, the token head on the 768/512-d map."""
    cfg = _cfg(name)
    cfg.model.train_cfg.augments.switch_prob = 1.0  # the SMMix branch
    model = build_config_model(cfg)
    assert type(model.backbone).__name__ == backbone
    assert model.neck is None
    layout, size = model.mix_context.configured_layout()
    assert size == (224, 224)
    assert (layout.grid, layout.patch_size) == ((7, 7), (32, 32))
    assert not layout.class_token
    mixes = record_mixes(model.augments[0])
    log_vars = _step(model)
    (drawn, ) = [m.info for m in mixes]
    assert drawn['branch'] == 'smmix' and 1 <= drawn['region_size'] <= 5
    assert drawn['region'].source_mask.shape == (2, 49)
    for key in ('loss_cls', 'loss_fine', 'loss_con'):
        assert math.isfinite(float(log_vars[key])), (key, log_vars)


@pytest.mark.slow
@pytest.mark.parametrize('name', [
    'smmix/swin-tiny_mixup-cutmix_16xb64_in1k.py',
    'smmix/pvt-v2-b2_mixup-cutmix_4xb256_in1k.py',
])
def test_baseline_config_step(name):
    model = build_config_model(_cfg(name))
    assert [a.name for a in model.augments] == ['Mixup', 'CutMix']
    assert type(model.neck).__name__ == 'GlobalAveragePooling'
    assert math.isfinite(float(_step(model)['loss']))


@pytest.mark.slow
def test_swin_mixpro_config_is_the_official_maskmix():
    """56-px cells (a 4x4 grid at 224), PAL off: no attention read."""
    model = build_config_model(_cfg('mixing/swin-tiny_mixpro_16xb64_in1k.py'))
    (mixpro, ) = model.augments
    assert (mixpro.cell_pixels, mixpro.pal, mixpro.attn_stat,
            mixpro.maskmix_prob) == (56, False, None, 0.5)
    mixpro.maskmix_prob = 1.  # the MaskMix branch
    mixes = record_mixes(mixpro)
    assert math.isfinite(float(_step(model)['loss']))
    batch = mixes[0].info['batch']
    assert batch.tokens.shape == (2, 16)  # 4x4 cells
    kept = batch.tokens.sum(1) / 16
    assert torch.allclose(batch.lam_area, kept)


def test_swin_transmix_config_reads_the_pooled_statistic():
    """TransMix (ours on Swin): 'pooled' builds and relabels; the official
    'cls' is refused when the model is built, naming the alternative."""
    cfg = _cfg('mixing/swin-tiny_transmix_16xb64_in1k.py')
    model = build_config_model(cfg)
    assert [a.name for a in model.augments] == ['Mixup', 'TransMix']
    assert model.augments[1].attn_stat == 'pooled'
    model.switch.probs = [0., 1.]
    assert math.isfinite(float(_step(model)['loss']))
    cfg.model.train_cfg.augments[1].attn_stat = 'cls'
    with pytest.raises(ValueError) as err:
        build_config_model(cfg)
    for part in ("TransMix attn_stat='cls'", 'SwinTransformer',
                 'has no class token', "attn_stat='pooled'"):
        assert part in str(err.value)
