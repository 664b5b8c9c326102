"""DecoupledMixupLoss against hand computation on tiny tensors, with a
different lam per sample, label smoothing and same-class rows."""
import math

import pytest
import torch

from mmsmmix.models.losses import DecoupledMixupLoss

LOGITS = torch.tensor([[2.0, -1.0, 0.5, 1.0], [0.3, 1.2, -0.4, 0.0],
                       [1.0, 0.0, 0.0, -2.0]])


def _log_softmax(row, drop=None):
    """log softmax of one row (a list), optionally without class ``drop``."""
    keep = [j for j in range(len(row)) if j != drop]
    log_norm = math.log(sum(math.exp(row[j]) for j in keep))
    return {j: row[j] - log_norm for j in keep}


def _by_hand(row, label, pairs, eta):
    """Soft CE + eta * sum lam_i * -log softmax without the partner."""
    full = _log_softmax(row)
    loss = -sum(label[c] * full[c] for c in range(len(row)))
    for own, other, lam in pairs:
        loss += eta * lam * -_log_softmax(row, drop=other)[own]
    return loss


def test_per_sample_lam_by_hand():
    # row 0: 0.7 of class 1 + 0.3 of class 3; row 1: 0.2 of class 0 + 0.8
    # of class 2; row 2: class 0 mixed with itself (no decoupled term).
    labels = torch.tensor([[0., .7, 0., .3], [.2, 0., .8, 0.],
                           [1., 0., 0., 0.]])
    pairs = [[(1, 3, .7), (3, 1, .3)], [(2, 0, .8), (0, 2, .2)], []]
    loss = DecoupledMixupLoss(eta=0.1)(LOGITS, labels,
                                       reduction_override='none')
    for i in range(3):
        expected = _by_hand(LOGITS[i].tolist(), labels[i].tolist(),
                            pairs[i], 0.1)
        assert loss[i].item() == pytest.approx(expected, rel=1e-6)
    mean = DecoupledMixupLoss(eta=0.1, loss_weight=2.)(LOGITS, labels)
    assert mean.item() == pytest.approx(2 * loss.mean().item(), rel=1e-6)


def test_label_smoothing_is_undone_for_lam():
    eps, k = 0.1, 4
    pure = torch.tensor([[0., .7, 0., .3]])
    smoothed = pure * (1 - eps) + eps / k
    loss = DecoupledMixupLoss(eta=0.5, label_smoothing=eps)(
        LOGITS[:1], smoothed, reduction_override='none')
    expected = _by_hand(LOGITS[0].tolist(), smoothed[0].tolist(),
                        [(1, 3, .7), (3, 1, .3)], 0.5)
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_eta_zero_is_soft_cross_entropy_and_hard_labels_work():
    labels = torch.tensor([[0., .7, 0., .3], [0., 0., 1., 0.],
                           [1., 0., 0., 0.]])
    soft_ce = -(labels * LOGITS.log_softmax(1)).sum(1).mean()
    assert DecoupledMixupLoss(eta=0.)(LOGITS, labels).item() == \
        pytest.approx(soft_ce.item())
    hard = DecoupledMixupLoss()(LOGITS[1:], torch.tensor([2, 0]))
    assert hard.item() == pytest.approx(
        torch.nn.functional.cross_entropy(LOGITS[1:], torch.tensor(
            [2, 0])).item(), rel=1e-6)
    with pytest.raises(ValueError, match='eta'):
        DecoupledMixupLoss(eta=-1)
