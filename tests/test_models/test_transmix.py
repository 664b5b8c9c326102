"""TransMix: box and token-mask geometry, attention share and relabelling
against hand computations on crafted attention; the mixed forward's
attention is detached; a full training step."""

import numpy as np
import pytest
import torch
from mmengine.optim import OptimWrapper
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import mmsmmix  # noqa: F401
from mmsmmix.models.augments import TransMix
from mmsmmix.models.probes import AttentionRecord, build_attention_probe
from mmsmmix.ops import attention_share, box_token_mask, cutmix_box
from tests.helpers import record_mixes, tiny_vit_cfg


def test_cutmix_box_sides_follow_lam():
    for seed in range(30):
        top, bottom, left, right = cutmix_box(
            20, 30, 0.64, np.random.default_rng(seed))
        assert 0 <= top <= bottom <= 20 and 0 <= left <= right <= 30
        # sides int(20 * 0.6) = 12 and int(30 * 0.6) = 18, less if clipped
        assert bottom - top <= 12 and right - left <= 18
        if 6 <= top and bottom <= 14:
            assert bottom - top == 12


def test_box_token_mask_is_nearest_resize():
    # Pixels 0..13 of a 28-px side; nearest from 28 to 7 samples pixel 4i,
    # so token rows/columns 0..3 are inside.
    mask = box_token_mask((0, 14, 0, 14), (28, 28), (7, 7)).reshape(7, 7)
    expected = torch.zeros(7, 7)
    expected[:4, :4] = 1
    assert torch.equal(mask, expected)


def test_attention_share_by_hand():
    scores = torch.tensor([[1., 2., 3., 4.], [4., 0., 0., 0.]])
    mask = torch.tensor([0., 1., 1., 0.])
    assert torch.allclose(attention_share(scores, mask),
                          torch.tensor([5 / 10, 0.]))


def _record(cls_rows):
    """A (B, 2 heads, 1+4, 1+4) attention whose CLS row, averaged over the
    two heads, is ``cls_rows`` (B, 1+4); other rows uniform."""
    b = cls_rows.shape[0]
    attn = torch.full((b, 2, 5, 5), 0.2)
    attn[:, 0, 0] = cls_rows * 0.5
    attn[:, 1, 0] = cls_rows * 1.5
    return AttentionRecord(attn=attn, num_extra_tokens=1, grid=(2, 2),
                           patch_size=(4, 4))


def test_relabel_uses_each_images_attention_in_the_box():
    aug = TransMix(alpha=1.0, seed=0)
    images = torch.randn(3, 1, 8, 8)
    labels = torch.eye(3)
    result = aug.mix(images, labels)
    mixed, area_labels = result.inputs, result.targets
    top, bottom, left, right = result.info['box']
    area = (bottom - top) * (right - left) / 64
    assert result.info['pasted_area'] == area
    # The pasted pixels come from the partner, the rest is the image's own.
    inside = torch.zeros(8, 8, dtype=torch.bool)
    inside[top:bottom, left:right] = True
    assert torch.equal(mixed[0, 0][inside], images[2, 0][inside])
    assert torch.equal(mixed[0, 0][~inside], images[0, 0][~inside])
    assert torch.allclose(area_labels[0], torch.tensor([1 - area, 0, area]))

    cls_rows = torch.tensor([[.1, .4, .3, .2, .0], [.2, .1, .1, .1, .5],
                             [.0, .25, .25, .25, .25]])
    assert result.relabel.attn_stat == 'cls'
    relabelled = result.relabel.fn(_record(cls_rows), torch.zeros(3, 3))
    # By hand: tokens (2x2 grid of 4-px cells) inside the box by nearest
    # resize; share = attention in box / all patch attention, per image.
    token_inside = inside[::4, ::4].flatten().float()
    for i in range(3):
        patches = cls_rows[i, 1:]
        share = (patches * token_inside).sum() / patches.sum()
        lam = (area + share) / 2
        partner = 2 - i
        expected = torch.zeros(3)
        expected[i] += 1 - lam
        expected[partner] += lam
        assert torch.allclose(relabelled[i], expected, atol=1e-6), i


def _model(**kwargs):
    return MODELS.build(
        dict(
            type='MixImageClassifier',
            backbone=tiny_vit_cfg(out_type='cls_token'),
            head=dict(
                type='VisionTransformerClsHead',
                num_classes=10,
                in_channels=64,
                loss=dict(type='CrossEntropyLoss', use_soft=True)),
            train_cfg=dict(augments=dict(type='TransMix', seed=0))))


def test_probe_records_detached_attention_in_a_training_forward():
    model = _model()
    model.train()
    probe = build_attention_probe(model.backbone)
    with probe.capture('cls') as record:
        feats = model.extract_feat(torch.randn(2, 1, 28, 28))
    assert feats[-1].requires_grad and not record.attn.requires_grad
    assert record.grid == (7, 7)


def test_training_step_relabels_from_the_mixed_forward():
    model = _model()
    model.train()
    samples = [DataSample().set_gt_label(k) for k in (1, 4, 8, 2)]
    images = torch.rand(4, 1, 28, 28) * 255
    mixes = record_mixes(model.augments[0])
    log_vars = model.train_step(
        dict(inputs=images, data_samples=samples),
        OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1)))
    assert torch.isfinite(log_vars['loss'])
    scores = torch.stack([s.gt_score for s in samples])
    (result, ) = mixes
    area = result.info['pasted_area']
    pasted = scores[torch.arange(4), torch.tensor([2, 8, 4, 1])]
    assert torch.allclose(scores.sum(1), torch.ones(4))
    # Each image's pasted share is half the area plus half an attention
    # share in [0, 1], and the shares differ between images.
    assert torch.all(pasted >= area / 2 - 1e-6)
    assert torch.all(pasted <= area / 2 + 0.5 + 1e-6)
    assert len(set(round(v, 6) for v in pasted.tolist())) > 1


def test_bad_alpha():
    with pytest.raises(ValueError, match='alpha must be finite'):
        TransMix(alpha=0)


def _no_cls_model(attn_stat):
    """TransMix on a ViT built without a class token (mean-pooled)."""
    return MODELS.build(
        dict(
            type='MixImageClassifier',
            backbone=tiny_vit_cfg(out_type='avg_featmap',
                                  with_cls_token=False),
            head=dict(
                type='LinearClsHead',
                num_classes=10,
                in_channels=64,
                loss=dict(type='CrossEntropyLoss', use_soft=True)),
            train_cfg=dict(augments=dict(type='TransMix', seed=0,
                                         attn_stat=attn_stat))))


def test_cls_statistic_refused_at_build_without_a_class_token():
    """The official class-to-patch statistic needs a class token: refused
    when the model is built, naming backbone, statistic and alternative."""
    with pytest.raises(ValueError) as err:
        _no_cls_model('cls')
    for part in ("TransMix attn_stat='cls'", 'VisionTransformer',
                 'has no class token', "attn_stat='pooled'"):
        assert part in str(err.value)
    with pytest.raises(ValueError, match="'cls' \\(official\\) or 'pooled'"):
        TransMix(attn_stat='patch')


def test_pooled_statistic_relabels_by_the_pooled_attention():
    """attn_stat='pooled' (ours): the pasted share is half the area plus
    half the share of the column-mean attention inside the box, which sums
    to 1 over the tokens, so the share lies in [area/2, area/2 + 1/2]."""
    model = _no_cls_model('pooled')
    model.train()
    samples = [DataSample().set_gt_label(k) for k in (1, 4, 8, 2)]
    mixes = record_mixes(model.augments[0])
    log_vars = model.train_step(
        dict(inputs=torch.rand(4, 1, 28, 28) * 255, data_samples=samples),
        OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1)))
    assert torch.isfinite(log_vars['loss'])
    scores = torch.stack([s.gt_score for s in samples])
    area = mixes[0].info['pasted_area']
    pasted = scores[torch.arange(4), torch.tensor([2, 8, 4, 1])]
    assert torch.all(pasted >= area / 2 - 1e-6)
    assert torch.all(pasted <= area / 2 + 0.5 + 1e-6)


def test_pooled_share_by_hand():
    """'pooled' on a 2x2 grid, no class token, 1 head: the column means of
    the rows below are (.4, .3, .2, .1); a box over the top-right token
    (pixels 0..3 x 4..7 of 8x8, area 1/4) gives (1/4 + .3) / 2."""
    rows = torch.tensor([[.7, .1, .1, .1], [.1, .7, .1, .1],
                         [.4, .3, .2, .1], [.4, .1, .4, .1]])
    record = AttentionRecord(attn=rows[None, None], num_extra_tokens=0,
                             grid=(2, 2), patch_size=(4, 4))
    share = TransMix(attn_stat='pooled').pasted_share(record, (0, 4, 4, 8),
                                                      (8, 8), 0.25)
    assert torch.allclose(share, torch.tensor([(0.25 + 1.2 / 4) / 2]))
