"""Tests of SMMixClsHead and SMMixConsistencyLoss against hand computations.

Weights, tokens, masks and labels are hand-built; the expected logits are
worked out by hand in the comments and the losses are evaluated with explicit
log-sum-exp formulas in float64.
"""
import math

import pytest
import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import mmsmmix  # noqa: F401
from mmsmmix.models.losses import SMMixConsistencyLoss

W_CLS = [[1., -1., 0., 0.], [0., 0., 1., 0.], [0., 0., 0., 2.]]
B_CLS = [.1, 0., -.1]
W_TOK = [[1., 0., 0., 0.], [0., 1., 0., 0.], [0., 0., 1., 1.]]
B_TOK = [0., .5, -.5]

# (B=2, 1 CLS + 4 patches, C=4)
TOKENS = [
    [[1., 2., 0., -1.],                     # CLS
     [2., 0., 0., 0.], [0., 4., 0., 0.], [0., 0., 2., 2.], [1., 1., 1., 1.]],
    [[0., 1., 1., 0.],                      # CLS
     [0., 0., 0., 4.], [2., 2., 0., 0.], [0., 0., 6., 0.], [3., 0., 0., 3.]],
]
SOURCE_MASK = [[True, False, False, False], [False, True, True, False]]
# Hand pooling:
#   sample 0: source mean [2,0,0,0];      target mean [1/3, 5/3, 1, 1]
#   sample 1: source mean [1,1,3,0];      target mean [1.5, 0, 0, 3.5]
# token_head logits W_TOK @ f + B_TOK:
T_LOGITS = [[1 / 3, 5 / 3 + .5, 1.5], [1.5, .5, 3.]]
S_LOGITS = [[2., .5, -.5], [1., 1.5, 2.5]]
# CLS logits W_CLS @ cls + B_CLS:
Z_MIX = [[-.9, 0., -2.1], [-.9, 1., -.1]]
CLEAN = [[2., 0., -1.], [0., 1., 3.]]
LAM = .75
TARGET = [[.8, .1, .1], [.1, .1, .8]]
SOURCE = [[.1, .1, .8], [.8, .1, .1]]
# LAM * TARGET + (1 - LAM) * SOURCE
MIXED = [[.625, .1, .275], [.275, .1, .625]]


def _log_softmax(row):
    m = max(row)
    lse = m + math.log(sum(math.exp(v - m) for v in row))
    return [v - lse for v in row]


def _soft_ce(logits, labels):
    """mean_i -sum_c y_ic log softmax(z_i)_c."""
    return sum(-sum(y * lp for y, lp in zip(lab, _log_softmax(z)))
               for z, lab in zip(logits, labels)) / len(logits)


def _kl_batchmean(student, teacher):
    """sum_i sum_c p_ic (log p_ic - log q_ic) / B."""
    total = 0.
    for z, t in zip(student, teacher):
        log_q, log_p = _log_softmax(z), _log_softmax(t)
        total += sum(math.exp(lp) * (lp - lq) for lp, lq in zip(log_p, log_q))
    return total / len(student)


def _teacher():
    return [[LAM * a + (1 - LAM) * b for a, b in zip(CLEAN[i], CLEAN[1 - i])]
            for i in range(2)]


def _head(**kwargs):
    cfg = dict(
        type='SMMixClsHead',
        num_classes=3,
        in_channels=4,
        loss=dict(type='CrossEntropyLoss', use_soft=True))
    cfg.update(kwargs)
    head = MODELS.build(cfg)
    with torch.no_grad():
        head.layers.head.weight.copy_(torch.tensor(W_CLS))
        head.layers.head.bias.copy_(torch.tensor(B_CLS))
        head.token_head.weight.copy_(torch.tensor(W_TOK))
        head.token_head.bias.copy_(torch.tensor(B_TOK))
    return head


def _samples():
    return [
        DataSample().set_gt_label(label).set_gt_score(torch.tensor(score))
        for label, score in zip([0, 2], MIXED)
    ]


def _mix_info(clean=None):
    return dict(
        source_mask=torch.tensor(SOURCE_MASK),
        lam=LAM,
        target_score=torch.tensor(TARGET),
        source_score=torch.tensor(SOURCE),
        clean_logits=torch.tensor(CLEAN) if clean is None else clean)


def test_hand_pooled_logits_are_consistent():
    """Sanity of the hand values: token_head on hand means gives T/S."""
    head = _head()
    tokens = torch.tensor(TOKENS)
    with torch.no_grad():
        t0 = head.token_head(tokens[0, 2:].mean(0))
        s1 = head.token_head(tokens[1, 2:4].mean(0))
    assert torch.allclose(t0, torch.tensor(T_LOGITS[0]))
    assert torch.allclose(s1, torch.tensor(S_LOGITS[1]))


def test_loss_terms_match_hand_computation():
    """loss_cls, loss_fine and loss_con equal the hand formulas."""
    losses = _head().loss((torch.tensor(TOKENS), ), _samples(),
                          mix_info=_mix_info())
    assert set(losses) == {'loss_cls', 'loss_fine', 'loss_con'}
    assert losses['loss_cls'].item() == pytest.approx(
        _soft_ce(Z_MIX, MIXED), rel=1e-5)
    fine = .5 * (_soft_ce(T_LOGITS, TARGET) + _soft_ce(S_LOGITS, SOURCE))
    assert losses['loss_fine'].item() == pytest.approx(fine, rel=1e-5)
    assert losses['loss_con'].item() == pytest.approx(
        _kl_batchmean(Z_MIX, _teacher()), rel=1e-5)


def test_loss_weights_scale_terms():
    """fine_weight and the consistency loss_weight scale their own term."""
    base = _head().loss((torch.tensor(TOKENS), ), _samples(),
                        mix_info=_mix_info())
    weighted = _head(
        fine_weight=2.,
        consistency=dict(type='SMMixConsistencyLoss', loss_weight=3.)).loss(
            (torch.tensor(TOKENS), ), _samples(), mix_info=_mix_info())
    assert weighted['loss_cls'].item() == pytest.approx(
        base['loss_cls'].item())
    assert weighted['loss_fine'].item() == pytest.approx(
        2 * base['loss_fine'].item())
    assert weighted['loss_con'].item() == pytest.approx(
        3 * base['loss_con'].item())
    zero = _head(fine_weight=0.).loss((torch.tensor(TOKENS), ), _samples(),
                                      mix_info=_mix_info())
    assert zero['loss_fine'].item() == 0


def test_teacher_gets_no_gradient():
    """Gradients reach the mixed tokens and token_head, never clean logits."""
    head = _head()
    tokens = torch.tensor(TOKENS, requires_grad=True)
    clean = torch.tensor(CLEAN, requires_grad=True)
    losses = head.loss((tokens, ), _samples(), mix_info=_mix_info(clean))
    losses['loss_con'].backward(retain_graph=True)
    assert clean.grad is None
    assert tokens.grad is not None and tokens.grad[:, 0].abs().sum() > 0
    # loss_con only sees the CLS token
    assert torch.equal(tokens.grad[:, 1:], torch.zeros(2, 4, 4))
    losses['loss_fine'].backward()
    assert head.token_head.weight.grad.abs().sum() > 0
    assert clean.grad is None


def test_without_mix_info_only_loss_cls():
    """Mixup/clean batches: only loss_cls, token_head untouched."""
    head = _head()
    losses = head.loss((torch.tensor(TOKENS), ), _samples())
    assert set(losses) == {'loss_cls'}
    assert losses['loss_cls'].item() == pytest.approx(
        _soft_ce(Z_MIX, MIXED), rel=1e-5)
    losses['loss_cls'].backward()
    assert head.token_head.weight.grad is None
    # plain (B, C) class tokens work too
    cls_only = torch.tensor(TOKENS)[:, 0]
    assert set(head.loss((cls_only, ), _samples())) == {'loss_cls'}


def test_predict_uses_class_token_only():
    """forward/predict read the CLS token; patch tokens do not matter."""
    head = _head()
    tokens = torch.tensor(TOKENS)
    with torch.no_grad():
        logits = head((tokens, ))
        assert torch.allclose(logits, torch.tensor(Z_MIX))
        assert torch.allclose(head((tokens[:, 0], )), torch.tensor(Z_MIX))
        other = tokens.clone()
        other[:, 1:] = torch.randn(2, 4, 4) * 10
        a = head.predict((tokens, ))
        b = head.predict((other, ))
    for x, y in zip(a, b):
        assert torch.equal(x.pred_score, y.pred_score)
        assert torch.equal(x.pred_label, y.pred_label)
    assert [int(s.pred_label) for s in a] == [1, 1]


def test_class_token_input_with_mix_info_raises():
    """SMMix batches need raw tokens: (B, C) input names out_type='raw'."""
    with pytest.raises(ValueError, match="out_type='raw'"):
        _head().loss((torch.tensor(TOKENS)[:, 0], ), _samples(),
                     mix_info=_mix_info())


def test_token_head_is_separate_linear():
    """token_head is its own Linear(in_channels, num_classes)."""
    head = _head()
    assert isinstance(head.token_head, torch.nn.Linear)
    assert head.token_head.weight.shape == (3, 4)
    assert head.token_head.weight.data_ptr() != \
        head.layers.head.weight.data_ptr()


# ------------------------------------------------------ consistency loss
def test_consistency_loss_hand_value():
    """KL(softmax(lam z + (1-lam) z.flip(0)) || softmax(z_mix)), batchmean."""
    loss = SMMixConsistencyLoss()(torch.tensor(Z_MIX), torch.tensor(CLEAN),
                                  LAM)
    assert loss.item() == pytest.approx(_kl_batchmean(Z_MIX, _teacher()),
                                        rel=1e-5)
    # logits are mixed *before* the softmax: differs from mixing probs
    probs = [[math.exp(v) for v in _log_softmax(r)] for r in CLEAN]
    mixed_p = [[LAM * a + (1 - LAM) * b
                for a, b in zip(probs[i], probs[1 - i])] for i in range(2)]
    wrong = sum(
        sum(p * (math.log(p) - lq)
            for p, lq in zip(mp, _log_softmax(z)))
        for mp, z in zip(mixed_p, Z_MIX)) / 2
    assert abs(loss.item() - wrong) > 1e-3


def test_consistency_loss_gradient_and_zero():
    """d loss / d z_mix = (q - p) / B; loss is 0 when student == teacher."""
    z = torch.tensor(Z_MIX, dtype=torch.float64, requires_grad=True)
    clean = torch.tensor(CLEAN, requires_grad=True)
    loss = SMMixConsistencyLoss(loss_weight=2.)(z, clean, LAM)
    loss.backward()
    assert clean.grad is None
    teacher = torch.tensor(_teacher(), dtype=torch.float64)
    expected = 2. * (torch.softmax(z.detach(), 1) -
                     torch.softmax(teacher, 1)) / 2
    assert torch.allclose(z.grad, expected, atol=1e-6)
    same = SMMixConsistencyLoss()(teacher.float(), torch.tensor(CLEAN), LAM)
    assert abs(same.item()) < 1e-6
    # lam = 1: the teacher is each sample's own clean logits
    own = SMMixConsistencyLoss()(torch.tensor(CLEAN), torch.tensor(CLEAN), 1.)
    assert abs(own.item()) < 1e-6


# The 4 patches of TOKENS as a (B, C, 2, 2) last-stage map in raster order,
# as a backbone without a class token (Swin, PVT-v2) returns it.
# Class feature = the mean of the 4 positions:
#   sample 0: [3/4, 5/4, 3/4, 3/4] -> W_CLS f + B_CLS = [-.4, .75, 1.4]
#   sample 1: [5/4, 1/2, 3/2, 7/4] -> [.85, 1.5, 3.4]
Z_POOLED = [[-.4, .75, 1.4], [.85, 1.5, 3.4]]


def _feature_map():
    return torch.tensor(TOKENS)[:, 1:].transpose(1, 2).reshape(2, 4, 2, 2)


def test_feature_map_input_pools_like_the_gap_neck():
    """(B, C, H, W): the class logits of the map's mean (hand values), the
    same as MMPretrain's GlobalAveragePooling neck before the head."""
    head = _head()
    fmap = _feature_map()
    with torch.no_grad():
        assert torch.allclose(head((fmap, )), torch.tensor(Z_POOLED))
        gap = MODELS.build(dict(type='GlobalAveragePooling'))
        assert torch.allclose(head(gap((fmap, ))), torch.tensor(Z_POOLED))


def test_feature_map_region_losses_match_hand_computation():
    """The fine loss reads the map's positions as the patch tokens (same
    hand T/S logits), the class and consistency terms the pooled logits."""
    losses = _head().loss((_feature_map(), ), _samples(),
                          mix_info=_mix_info())
    assert losses['loss_cls'].item() == pytest.approx(
        _soft_ce(Z_POOLED, MIXED), rel=1e-5)
    fine = .5 * (_soft_ce(T_LOGITS, TARGET) + _soft_ce(S_LOGITS, SOURCE))
    assert losses['loss_fine'].item() == pytest.approx(fine, rel=1e-5)
    assert losses['loss_con'].item() == pytest.approx(
        _kl_batchmean(Z_POOLED, _teacher()), rel=1e-5)
