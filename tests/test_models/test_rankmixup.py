"""RankMixup: the MRL and M-NDCG losses against hand computations, the mixed
batches (per-sample relevance, same-class rows, odd batch, synced draws) and
a training step whose loss is the clean cross-entropy plus the ranking
term."""
import copy
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import mmsmmix  # noqa: F401
from mmsmmix.models.augments import RankMixup
from mmsmmix.models.losses import RankMixupLoss
from tests.helpers import tiny_vit_cfg


def test_mrl_by_hand():
    clean = torch.tensor([[3., 1., 0.], [0., 2., 0.], [1., 1., 1.]])
    mixed = torch.tensor([[[2.5, 0., 0.], [0., 0., 3.5], [0., 0., -1.]]])
    relevance = torch.tensor([[0.7, 0.6, 1.0]])  # row 2 met its own class
    # hinges: relu(2.5 - 3 + 1) = 0.5, relu(3.5 - 2 + 1) = 2.5,
    # relu(-1 - 1 + 1) = 0; mask (1, 1, 0).
    per_row = RankMixupLoss(mode='mrl', margin=1.0, loss_weight=0.5,
                            mrl_mask='per_row')
    assert per_row(clean, mixed, relevance).item() == pytest.approx(
        0.5 * (0.5 + 2.5 + 0.) / 3)
    # Official: the (3,) mask times the (3, 1) hinges is a (3, 3) matrix
    # [[m_j * h_i]]; its mean over the 9 entries:
    hinge, mask = [0.5, 2.5, 0.], [1., 1., 0.]
    official = sum(m * h for h in hinge for m in mask) / 9
    loss = RankMixupLoss(mode='mrl', margin=1.0, loss_weight=0.5)
    assert loss.mrl_mask == 'official'
    assert loss(clean, mixed, relevance).item() == pytest.approx(
        0.5 * official)


def test_mrl_masks_each_row_on_its_own():
    # A hinge on the unmasked row only: per row (4 + 0) / 2 = 2; the official
    # product gives mean(mask) * mean(hinge) = (1/2) * (4/2) = 1. A hinge on
    # the masked row only: per row 0, official (1/2) * (4/2) = 1 again.
    clean = torch.zeros(2, 2)
    relevance = torch.tensor([[0.5, 1.0]])
    per_row = RankMixupLoss(mode='mrl', margin=1.0, loss_weight=1.0,
                            mrl_mask='per_row')
    official = RankMixupLoss(mode='mrl', margin=1.0, loss_weight=1.0)
    first = torch.tensor([[[3., 0.], [-1., -1.]]])
    second = torch.tensor([[[-1., -1.], [3., 0.]]])
    assert per_row(clean, first, relevance).item() == pytest.approx(2.0)
    assert per_row(clean, second, relevance).item() == pytest.approx(0.0)
    assert official(clean, first, relevance).item() == pytest.approx(1.0)
    assert official(clean, second, relevance).item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match='mrl_mask'):
        RankMixupLoss(mrl_mask='rows')


def _conf(logits):
    exp = [math.exp(v) for v in logits]
    return max(exp) / sum(exp)


def test_mndcg_by_hand():
    clean = torch.tensor([[2., 0.], [0., 0.5]])
    mixed = torch.tensor([[[1., 0.], [0., 3.]],
                          [[0.5, 0.], [0., 0.]]])  # (k=2, B=2, K=2)
    relevance = torch.tensor([[0.6, 0.9], [0.8, 0.7]])
    loss = RankMixupLoss(mode='mndcg', loss_weight=1.0)
    ndcgs = []
    for i, order in ((0, (1, 0)), (1, (0, 1))):  # relevance descending
        confs = [_conf(clean[i].tolist())] + [
            _conf(mixed[j, i].tolist()) for j in order]
        rels = [1.0] + [relevance[j, i].item() for j in order]
        disc = [math.log2(r + 1) for r in (1, 2, 3)]
        dcg = sum(c / d for c, d in zip(confs, disc))
        idcg = sum(r / d for r, d in zip(rels, disc))
        ndcgs.append(min(dcg / idcg, idcg / dcg))
    expected = 1 - sum(ndcgs) / 2
    assert loss(clean, mixed, relevance).item() == pytest.approx(expected)


def test_loss_arguments_and_shapes():
    with pytest.raises(ValueError, match='mode'):
        RankMixupLoss(mode='ndcg')
    with pytest.raises(ValueError, match='margin'):
        RankMixupLoss(margin=-1)
    with pytest.raises(ValueError, match=r'mixed \(k, B, K\)'):
        RankMixupLoss()(torch.zeros(2, 3), torch.zeros(2, 3),
                        torch.zeros(1, 2))
    with pytest.raises(ValueError, match='alpha'):
        RankMixup(alpha=float('nan'))
    with pytest.raises(ValueError, match='num_mixups'):
        RankMixup(num_mixups=0)


def test_mixed_batches_and_relevance():
    aug = RankMixup(alpha=1.0, num_mixups=3, seed=0)
    images = torch.arange(5.).view(5, 1, 1, 1).expand(5, 1, 4, 4)
    labels = torch.tensor([0, 1, 1, 2, 3])
    mixed, relevance = aug.mix_batches(images, F.one_hot(labels, 4).float())
    assert mixed.shape == (15, 1, 4, 4) and relevance.shape == (3, 5)
    twin = RankMixup(alpha=1.0, num_mixups=3, seed=0)
    for j in range(3):
        lam = twin.random.beta(1.0)
        perm = twin.random.rng.permutation(5)
        for i in range(5):
            # image i holds the constant i: mixed = lam*i + (1-lam)*perm[i]
            value = lam * i + (1 - lam) * perm[i]
            assert torch.allclose(mixed[j * 5 + i],
                                  torch.full((1, 4, 4), value))
            same = labels[i] == labels[perm[i]]
            assert relevance[j, i].item() == pytest.approx(
                1.0 if same else max(lam, 1 - lam))


def _model(mode='mrl', num_mixups=1):
    return MODELS.build(
        dict(
            type='MixImageClassifier',
            backbone=tiny_vit_cfg(out_type='cls_token'),
            head=dict(
                type='VisionTransformerClsHead',
                num_classes=10,
                in_channels=64,
                loss=dict(type='CrossEntropyLoss')),
            train_cfg=dict(augments=dict(
                type='RankMixup',
                num_mixups=num_mixups,
                loss=dict(type='RankMixupLoss', mode=mode, margin=2.0,
                          loss_weight=0.1),
                seed=0))))


@pytest.mark.parametrize('mode,num_mixups', [('mrl', 1), ('mndcg', 3)])
def test_loss_is_clean_ce_plus_ranking(mode, num_mixups):
    model = _model(mode, num_mixups)
    model.train()
    images = torch.randn(3, 1, 28, 28)  # odd batch
    labels = torch.tensor([1, 4, 1])
    samples = [DataSample().set_gt_label(int(k)) for k in labels]
    losses = model.loss(images, samples)
    assert set(losses) == {'loss', 'loss_rank'}

    twin = RankMixup(num_mixups=num_mixups, loss=dict(
        type='RankMixupLoss', mode=mode, margin=2.0, loss_weight=0.1),
        seed=0)
    mixed, relevance = twin.mix_batches(images,
                                        F.one_hot(labels, 10).float())
    with torch.no_grad():
        clean = model.head(model.extract_feat(images))
        mixed_logits = model.head(model.extract_feat(mixed)).view(
            num_mixups, 3, 10)
    assert losses['loss'].item() == pytest.approx(
        F.cross_entropy(clean, labels).item(), rel=1e-5)
    assert losses['loss_rank'].item() == pytest.approx(
        twin.loss(clean, mixed_logits, relevance).item(), rel=1e-5)


def test_training_step_sends_gradient_through_both_forwards():
    model = _model()
    model.train()
    samples = [DataSample().set_gt_label(k) for k in (1, 4, 8)]
    data = dict(inputs=torch.rand(3, 1, 28, 28) * 255, data_samples=samples)
    # What the step will log, recomputed with a twin stream before it.
    inputs = model.data_preprocessor(copy.deepcopy(data), True)['inputs']
    twin = RankMixup(loss=dict(type='RankMixupLoss', mode='mrl', margin=2.0,
                               loss_weight=0.1), seed=0)
    mixed, relevance = twin.mix_batches(
        inputs, F.one_hot(torch.tensor([1, 4, 8]), 10).float())
    with torch.no_grad():
        clean = model.head(model.extract_feat(inputs))
        mixed_logits = model.head(model.extract_feat(mixed))[None]
    expected = twin.loss(clean, mixed_logits, relevance).item()
    log_vars = model.train_step(
        data, OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1)))
    assert torch.isfinite(log_vars['loss'])
    assert float(log_vars['loss_rank']) == pytest.approx(expected, rel=1e-5)
    # The ranking term alone moves the weights: gradient from the mixed
    # forward (clean CE switched off by a zero weight).
    model.head.loss_module.loss_weight = 0.
    model.augments[0].loss.margin = 100.  # every hinge active
    model.zero_grad()
    losses = model.loss(*model.data_preprocessor(data, True).values())
    sum(losses.values()).backward()
    assert model.backbone.patch_embed.projection.weight.grad.abs().sum() > 0
