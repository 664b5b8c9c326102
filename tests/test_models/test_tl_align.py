"""TLAlign: the token box, pasted pixels and class-token seed for fixed
draws; the targets of a training step against the propagation computed by
hand from each block's attention recomputed from its qkv (MLP and drop path
play no part); refusals at build; the configs."""
import math
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import mmsmmix  # noqa: F401
from mmsmmix.models.augments import TLAlign
from mmsmmix.models.probes import AttentionRecord
from tests.helpers import (REPO_ROOT, build_config_model, record_mixes,
                           tiny_vit_cfg)

LABELS = (1, 4, 8, 2)
SOFT_CE = dict(type='CrossEntropyLoss', use_soft=True)


class FixedDraws:
    """A generator whose ``beta`` and ``integers`` return given values."""

    def __init__(self, betas, centres):
        self.betas, self.centres = list(betas), list(centres)

    def beta(self, a, b):
        return self.betas.pop(0)

    def integers(self, low, high):
        return self.centres.pop(0)


def _model(num_layers=2, drop_path_rate=0., head_loss=SOFT_CE, **aug):
    torch.manual_seed(0)
    return MODELS.build(
        dict(
            type='MixImageClassifier',
            backbone=tiny_vit_cfg(num_layers=num_layers,
                                  out_type='cls_token',
                                  drop_path_rate=drop_path_rate),
            head=dict(type='VisionTransformerClsHead', num_classes=10,
                      in_channels=64, loss=dict(head_loss)),
            train_cfg=dict(augments=dict(type='TLAlign', seed=0, **aug))))


def _smoothed(labels, k=10, eps=0.1):
    return F.one_hot(torch.tensor(labels), k).float() * (1 - eps) + eps / k


def test_fixed_draws_box_pixels_and_seed():
    """7x7 grid of 4-px patches, lam 0.5: cut = int(7 * 0.7071) = 4, half
    2; centre (3, 1): token rows 1..5, columns -1..3 -> 0..3; 12 tokens,
    lam = 1 - 12/49. lam = 1 is drawn again first (the official loop)."""
    model = _model()
    aug = model.augments[0]
    aug.random._rng = FixedDraws([1.0, 1.0, 0.5], [3, 1])
    images = torch.randn(4, 1, 28, 28)
    result = model.mix(aug, images, F.one_hot(torch.tensor(LABELS),
                                              10).float())
    assert result.info['box'] == (1, 5, 0, 3)
    lam = 1 - 12 / 49
    assert result.info['lam'] == lam
    inside = torch.zeros(28, 28, dtype=torch.bool)
    inside[4:20, 0:12] = True
    assert torch.equal(result.inputs[:, 0][:, inside],
                       images.flip(0)[:, 0][:, inside])
    assert torch.equal(result.inputs[:, 0][:, ~inside],
                       images[:, 0][:, ~inside])
    assert torch.equal(result.partner, torch.tensor([3, 2, 1, 0]))
    assert torch.equal(result.partner_share[:, 0].bool(),
                       inside.expand(4, -1, -1))
    # pasted pixel share = the class token's seeded partner share
    assert math.isclose(result.partner_share[0].mean().item(), 1 - lam,
                        rel_tol=1e-6)
    own = _smoothed(LABELS)
    assert torch.allclose(result.targets,
                          lam * own + (1 - lam) * own.flip(0))
    assert result.relabel.attn_stat == 'cls'
    assert result.relabel.blocks == 'all'


def test_odd_batch_runs_middle_image_is_its_own_partner():
    """The official code asserts an even batch; here the middle image of an
    odd batch pairs with itself and keeps its own (smoothed) label."""
    model = _model()
    result = model.mix(model.augments[0], torch.randn(3, 1, 28, 28),
                       F.one_hot(torch.tensor([1, 4, 8]), 10).float())
    assert result.partner.tolist() == [2, 1, 0]
    assert torch.allclose(result.targets[1], _smoothed([4])[0])


def test_lam_one_forever_raises_instead_of_hanging():
    aug = TLAlign(seed=0)
    aug.random._rng = FixedDraws([1.0] * TLAlign.MAX_DRAWS, [])
    with pytest.raises(RuntimeError, match='drew lam = 1'):
        aug.draw_lam()


def _attention_by_hand(attn, x):
    """Head-mean softmax(q k^T / sqrt(d)) of a block's attention module
    for its input ``x`` (B, T, C), from its qkv."""
    b, t, _ = x.shape
    qkv = attn.qkv(x).reshape(b, t, 3, attn.num_heads, attn.head_dims)
    q, k = qkv[:, :, 0].transpose(1, 2), qkv[:, :, 1].transpose(1, 2)
    probs = (q @ k.transpose(-2, -1) * attn.head_dims**-0.5).softmax(-1)
    return probs.mean(dim=1)


def _record_attention(module, args):
    with torch.no_grad():  # before the optimizer changes the weights
        module.by_hand.append(_attention_by_hand(module, args[0]))


def _step(model, images, train_step=False):
    """One training forward; returns the mix, the targets and each block's
    attention recomputed by hand from its input (ln1's output)."""
    handles = []
    for layer in model.backbone.layers:
        layer.attn.by_hand = []
        handles.append(
            layer.attn.register_forward_pre_hook(_record_attention))
    mixes = record_mixes(model.augments[0])
    samples = [DataSample().set_gt_label(k) for k in LABELS]
    model.train()
    try:
        if train_step:
            log_vars = model.train_step(
                dict(inputs=images, data_samples=samples),
                OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1)))
            assert torch.isfinite(log_vars['loss'])
        else:
            model.loss(images, samples)
    finally:
        for handle in handles:
            handle.remove()
    (result, ) = mixes
    attns = [layer.attn.by_hand for layer in model.backbone.layers]
    assert all(len(a) == 1 for a in attns)  # one forward of the backbone
    return (result, torch.stack([s.gt_score for s in samples]),
            [a[0] for a in attns])


@pytest.mark.parametrize('num_layers,drop_path_rate', [(2, 0.), (3, 0.6)])
def test_training_targets_are_the_propagation_by_hand(num_layers,
                                                      drop_path_rate):
    """gt_score = w_cls y~_a + (1 - w_cls) y~_b with w propagated as
    ``(A w + w) / 2`` through the attention of the mixed forward, whatever
    drop path did (3 layers: the middle one's drop changes the last
    block's attention, which the hand computation reads)."""
    model = _model(num_layers, drop_path_rate)
    images = torch.rand(4, 1, 28, 28) * 255
    result, scores, attns = _step(model, images, train_step=True)
    assert not scores.requires_grad and scores.grad_fn is None
    top, bottom, left, right = result.info['box']
    pasted = torch.zeros(7, 7)
    pasted[top:bottom, left:right] = 1
    w = torch.cat([torch.full((4, 1), result.info['lam']),
                   1 - pasted.flatten().expand(4, -1)], dim=1)
    for attn in attns:
        w = (torch.einsum('bqt,bt->bq', attn, w) + w) / 2
    own = _smoothed(LABELS)
    expected = w[:, :1] * own + (1 - w[:, :1]) * own.flip(0)
    assert torch.allclose(scores, expected, atol=1e-6)
    # per image, and not the area share any more
    assert not torch.allclose(scores, result.targets, atol=1e-4)


def test_targets_do_not_depend_on_the_mlp_or_the_last_drop_path():
    """Changing the last block's MLP, or dropping its branches (2 layers:
    only the last has drop path), changes the features, not a target."""
    images = torch.rand(4, 1, 28, 28) * 255
    base = _model()
    _, scores, _ = _step(base, images)
    base.eval()
    feats = base.backbone(images)[0]

    other_mlp = _model()
    other_mlp.load_state_dict(base.state_dict())
    with torch.no_grad():
        for p in other_mlp.backbone.layers[-1].ffn.parameters():
            p.add_(torch.randn_like(p))
    _, mlp_scores, _ = _step(other_mlp, images)
    assert torch.equal(mlp_scores, scores)
    other_mlp.eval()
    assert not torch.allclose(other_mlp.backbone(images)[0], feats)

    dropping = _model(drop_path_rate=0.9)
    dropping.load_state_dict(base.state_dict())
    torch.manual_seed(3)
    _, drop_scores, _ = _step(dropping, images)
    assert torch.allclose(drop_scores, scores, atol=1e-7)
    torch.manual_seed(3)
    dropping.train()
    dropped = dropping.backbone(images)[0]
    assert not torch.allclose(dropped, feats)  # drop path was active


def test_propagate_refuses_a_wrong_record():
    seed = torch.ones(2, 5)
    with pytest.raises(RuntimeError, match='recorded no attention'):
        TLAlign.propagate(seed, AttentionRecord())
    block = AttentionRecord(attn=torch.ones(2, 1, 5))
    with pytest.raises(RuntimeError, match=r'\(B, 1\+N, 1\+N\)'):
        TLAlign.propagate(seed, AttentionRecord(blocks=[block]))


def test_arguments():
    with pytest.raises(ValueError, match='Mixup branch crashes'):
        TLAlign(mixup_alpha=0.8)
    with pytest.raises(ValueError, match='tokenmix_alpha must be finite'):
        TLAlign(tokenmix_alpha=0)
    with pytest.raises(ValueError, match='label_smoothing'):
        TLAlign(label_smoothing=1.)
    layout = AttentionRecord(num_extra_tokens=1, grid=(7, 8),
                             patch_size=(4, 4), class_token=True)
    with pytest.raises(ValueError, match='square token grid'):
        TLAlign().check_layout(layout, (28, 32))


def test_refused_without_a_class_token():
    with pytest.raises(ValueError, match="TLAlign attn_stat='cls'"):
        MODELS.build(dict(
            type='MixImageClassifier',
            backbone=tiny_vit_cfg(out_type='avg_featmap',
                                  with_cls_token=False),
            head=dict(type='LinearClsHead', num_classes=10, in_channels=64,
                      loss=SOFT_CE),
            train_cfg=dict(augments=dict(type='TLAlign'))))


def test_refused_with_a_distillation_token():
    backbone = tiny_vit_cfg(out_type='cls_token')
    backbone['type'] = 'DistilledVisionTransformer'
    with pytest.raises(ValueError, match='distillation token'):
        MODELS.build(dict(
            type='MixImageClassifier', backbone=backbone,
            head=dict(type='LinearClsHead', num_classes=10, in_channels=64,
                      loss=SOFT_CE),
            train_cfg=dict(augments=dict(type='TLAlign'))))


def test_refused_on_cait():
    with pytest.raises(ValueError, match='CaiT: the class token joins only'):
        MODELS.build(dict(
            type='MixImageClassifier',
            backbone=dict(type='CaiT', arch='xxs24', out_type='cls_token'),
            head=dict(type='LinearClsHead', num_classes=10,
                      in_channels=192, loss=SOFT_CE),
            train_cfg=dict(augments=dict(type='TLAlign'))))


def test_smoothing_head_refused():
    with pytest.raises(ValueError, match='already smooths labels'):
        _model(head_loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1,
                              mode='original'))


def _config_step(path, batch, size, channels):
    model = build_config_model(Config.fromfile(osp.join(REPO_ROOT, path)))
    data = dict(
        inputs=[torch.randint(0, 256, (channels, size, size),
                              dtype=torch.uint8) for _ in range(batch)],
        data_samples=[DataSample().set_gt_label(k)
                      for k in (3, 7, 1, 0)[:batch]])
    model.train()
    log_vars = model.train_step(
        data, OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-3)))
    assert math.isfinite(float(log_vars['loss']))
    (aug, ) = model.augments
    assert isinstance(aug, TLAlign)
    assert (aug.tokenmix_alpha, aug.label_smoothing) == (1.0, 0.1)
    assert model.switch.probs in (None, [1.0])
    return model


def test_fashion_mnist_config():
    model = _config_step(
        'configs/fashion_mnist/vit-mini-p7_tlalign_1xb64_fmnist.py', 4, 28,
        1)
    assert model.mix_context.token_layout().grid == (4, 4)


@pytest.mark.slow  # DeiT-S at 224 px
def test_deit_small_config():
    model = _config_step('configs/mixing/deit-small_tlalign_4xb256_in1k.py',
                         2, 224, 3)
    assert model.mix_context.token_layout().grid == (14, 14)
