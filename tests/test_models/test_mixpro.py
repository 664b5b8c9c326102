"""MixPro: MaskMix cells follow the grid and every token comes from one
image; PAL against a hand computation on crafted attention and logits; a
training step; the build-time layout check."""
import math

import numpy as np
import pytest
import torch
from mmengine.optim import OptimWrapper
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import mmsmmix  # noqa: F401
from mmsmmix.models.probes import AttentionRecord
from mmsmmix.ops import cell_token_mask, token_to_pixel_mask
from tests.conftest import tiny_vit_cfg


@pytest.mark.parametrize('grid,cell,share', [(7, 2, 0.3), (8, 4, 0.5),
                                             (14, 4, 0.9)])
def test_cells_follow_the_grid(grid, cell, share):
    mask = cell_token_mask(grid, cell, share, np.random.default_rng(1))
    assert mask.shape == (grid, grid)
    cells = math.ceil(grid / cell)
    kept = 0
    for i in range(cells):
        for j in range(cells):
            block = mask[i * cell:(i + 1) * cell, j * cell:(j + 1) * cell]
            assert block.all() or not block.any()  # whole cells only
            kept += int(block.all())
    assert kept == math.ceil(cells * cells * share)


def _model(pal=True):
    return MODELS.build(
        dict(
            type='MixImageClassifier',
            backbone=tiny_vit_cfg(out_type='cls_token'),  # 7x7 of 4 px
            head=dict(
                type='VisionTransformerClsHead',
                num_classes=10,
                in_channels=64,
                loss=dict(type='CrossEntropyLoss', use_soft=True)),
            train_cfg=dict(augments=dict(
                type='MixPro', cell_tokens=2, pal=pal, seed=0))))


def test_every_token_comes_from_one_image():
    model = _model()
    aug = model.augments[0]
    images = torch.arange(1, 6).float().view(5, 1, 1, 1).expand(
        5, 1, 28, 28) + torch.rand(5, 1, 28, 28) * 0.1
    mixed, score, info = aug(images, torch.eye(5), model=model)
    assert info is None
    tokens, lam, _ = aug._batch
    pixels = token_to_pixel_mask(tokens.view(7, 7), (4, 4))
    for i in range(5):
        partner = 4 - i
        assert torch.equal(mixed[i, 0][pixels], images[i, 0][pixels])
        assert torch.equal(mixed[i, 0][~pixels], images[partner, 0][~pixels])
    assert lam == pytest.approx(tokens.float().mean().item())
    assert torch.allclose(score[0], lam * torch.eye(5)[0] +
                          (1 - lam) * torch.eye(5)[4])


def test_pal_by_hand():
    model = _model()
    aug = model.augments[0]
    mixed, score, _ = aug(torch.randn(2, 1, 28, 28), torch.eye(2), model=model)
    tokens, lam_area, pure = aug._batch
    # Crafted attention: CLS row = cls_rows (head mean), 49 patches.
    torch.manual_seed(0)
    cls_rows = torch.rand(2, 50)
    attn = torch.zeros(2, 2, 50, 50)
    attn[:, 0, 0], attn[:, 1, 0] = cls_rows * 0.5, cls_rows * 1.5
    record = AttentionRecord(attn=attn, num_extra_tokens=1, grid=(7, 7),
                             patch_size=(4, 4))
    logits = torch.tensor([[2., 0.], [0., 1.]])
    labels = aug.relabel(score, record, logits)
    for i in range(2):
        patches = cls_rows[i, 1:]
        lam_attn = (patches * tokens.float()).sum() / patches.sum()
        probs = logits[i].softmax(0)
        sim = (score[i] @ probs) / (score[i].norm() * probs.norm())
        lam = sim * lam_attn + (1 - sim) * lam_area
        expected = lam * pure[i] + (1 - lam) * pure[1 - i]
        assert torch.allclose(labels[i], expected, atol=1e-6)


@pytest.mark.parametrize('pal', [True, False])
def test_training_step(pal):
    model = _model(pal)
    model.train()
    samples = [DataSample().set_gt_label(k) for k in (1, 4, 8)]
    log_vars = model.train_step(
        dict(inputs=torch.rand(3, 1, 28, 28) * 255, data_samples=samples),
        OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1)))
    assert torch.isfinite(log_vars['loss'])
    assert model.augments[0].requires_mixed_attention is pal


def test_bad_layout_and_arguments():
    with pytest.raises(ValueError, match='square token grid'):
        MODELS.build(
            dict(
                type='MixImageClassifier',
                backbone=tiny_vit_cfg(img_size=(28, 36)),
                head=dict(type='VisionTransformerClsHead', num_classes=10,
                          in_channels=64),
                train_cfg=dict(augments=dict(type='MixPro'))))
    with pytest.raises(ValueError, match='cell_tokens'):
        MODELS.build(dict(type='MixImageClassifier',
                          backbone=tiny_vit_cfg(),
                          head=dict(type='VisionTransformerClsHead',
                                    num_classes=10, in_channels=64),
                          train_cfg=dict(augments=dict(type='MixPro',
                                                       cell_tokens=0))))
