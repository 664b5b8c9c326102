"""DecoupledMixupLoss against hand computation on tiny tensors, with a
different lam per sample, label smoothing and same-class rows, in both
pairings ('per_sample', the default, and 'reference', the authors' code)."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import mmsmmix  # noqa: F401
from mmsmmix.models.losses import DecoupledMixupLoss
from tests.helpers import tiny_vit_cfg

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


# --- pairing='reference': the authors' OpenMixup pairing, bugs included ---

def _mix(k, own, partner, lam):
    """lam * onehot(own) + (1 - lam) * onehot(partner), as a list."""
    label = [0.] * k
    label[own] += lam
    label[partner] += 1 - lam
    return label


def _soft_ce(row, label):
    full = _log_softmax(row)
    return -sum(label[c] * full[c] for c in range(len(row)))


def test_reference_pairing_swaps_weights_single_row_by_hand():
    # own class 2, partner 0, lam 0.8, logits (0, 1, 2). per_sample: eta*0.8
    # on class 2; reference: row 0's values in class order are (0.2, 0.8),
    # so eta*lam = 0.08 lands on class 0 (value 0.2) and 0.02 on class 2.
    logits = [0., 1., 2.]
    log_norm = math.log(1 + math.e + math.e ** 2)
    soft_ce = 0.2 * log_norm + 0.8 * (log_norm - 2)
    ce_2_without_0 = math.log(1 + math.exp(-1))  # softmax over {1, 2}
    ce_0_without_2 = math.log(1 + math.e)  # softmax over {0, 1}
    per_sample = soft_ce + 0.1 * (0.8 * ce_2_without_0 + 0.2 * ce_0_without_2)
    reference = soft_ce + 0.1 * (0.2 * ce_2_without_0 + 0.8 * ce_0_without_2)
    assert per_sample == pytest.approx(0.858937, abs=1e-5)
    assert reference == pytest.approx(0.918937, abs=1e-5)

    x = torch.tensor([logits])
    y = torch.tensor([_mix(3, 2, 0, 0.8)])
    got_ps = DecoupledMixupLoss(eta=0.1)(x, y)
    got_ref = DecoupledMixupLoss(eta=0.1, pairing='reference')(
        x, y, own_label=torch.tensor([2]))
    assert got_ps.item() == pytest.approx(per_sample, rel=1e-6)
    assert got_ref.item() == pytest.approx(reference, rel=1e-6)
    assert DecoupledMixupLoss(pairing='reference').requires_own_label
    assert not DecoupledMixupLoss().requires_own_label


def _batch(owns, partners, lam, k=4):
    return torch.tensor([_mix(k, o, p, lam) for o, p in zip(owns, partners)])


def test_reference_pairing_batch_lam_swap_and_no_swap():
    lam, eta = 0.7, 0.1
    # Swap: row 0 mixes own class 3 (0.7) with class 1 (0.3), so its values
    # in class order are (0.3, 0.7) and eta*lam goes to the value 0.3 in
    # every row. Row 1: own 0 (0.7), partner 2 (0.3). Row 2: class 1 with
    # itself, soft CE alone.
    owns, partners = [3, 0, 1], [1, 2, 1]
    labels = _batch(owns, partners, lam)
    expected = []
    for i in range(3):
        row, label = LOGITS[i].tolist(), labels[i].tolist()
        value = _soft_ce(row, label)
        if owns[i] != partners[i]:
            value += eta * (1 - lam) * -_log_softmax(
                row, drop=partners[i])[owns[i]]  # own (0.7) gets eta*0.3
            value += eta * lam * -_log_softmax(
                row, drop=owns[i])[partners[i]]  # partner (0.3) gets eta*0.7
        expected.append(value)
    ref = DecoupledMixupLoss(eta=eta, pairing='reference')
    got = ref(LOGITS, labels, own_label=torch.tensor(owns),
              reduction_override='none')
    assert got.tolist() == pytest.approx(expected, rel=1e-6)
    per_sample = DecoupledMixupLoss(eta=eta)(LOGITS, labels,
                                             reduction_override='none')
    assert per_sample[0].item() != pytest.approx(expected[0], rel=1e-4)
    assert got.mean().item() == pytest.approx(
        ref(LOGITS, labels, own_label=torch.tensor(owns)).item(), rel=1e-6)

    # The pairing is read from the first *mixed* row, as the reference sets
    # the same-class rows aside first: put the same-class row first.
    order = [2, 0, 1]
    got_reordered = ref(LOGITS[order], labels[order],
                        own_label=torch.tensor(owns)[order],
                        reduction_override='none')
    assert got_reordered.tolist() == pytest.approx(
        [expected[i] for i in order], rel=1e-6)

    # No swap: row 0's own class 1 has the smaller index, (0.7, 0.3) in
    # class order, so every class gets its own lam: equal to per_sample.
    owns, partners = [1, 2, 0], [3, 0, 0]
    labels = _batch(owns, partners, lam)
    expected = []
    for i in range(3):
        row, label = LOGITS[i].tolist(), labels[i].tolist()
        pairs = [] if owns[i] == partners[i] else [
            (owns[i], partners[i], lam), (partners[i], owns[i], 1 - lam)]
        expected.append(_by_hand(row, label, pairs, eta))
    got = ref(LOGITS, labels, own_label=torch.tensor(owns),
              reduction_override='none')
    assert got.tolist() == pytest.approx(expected, rel=1e-6)
    assert torch.allclose(
        got, DecoupledMixupLoss(eta=eta)(LOGITS, labels,
                                         reduction_override='none'))


@pytest.mark.parametrize('lam', [0.5, 5e-4])
def test_reference_pairing_drops_term_at_half_and_below_eps(lam):
    owns, partners = [1, 2, 0], [3, 0, 0]
    labels = _batch(owns, partners, lam)
    soft_ce = [_soft_ce(LOGITS[i].tolist(), labels[i].tolist())
               for i in range(3)]
    got = DecoupledMixupLoss(eta=0.5, pairing='reference')(
        LOGITS, labels, own_label=torch.tensor(owns),
        reduction_override='none')
    assert got.tolist() == pytest.approx(soft_ce, rel=1e-6)
    if lam == 0.5:  # per_sample keeps the term at lam = 0.5
        expected = [_by_hand(LOGITS[i].tolist(), labels[i].tolist(), [
            (owns[i], partners[i], .5), (partners[i], owns[i], .5)], 0.5)
            for i in range(2)]
        per_sample = DecoupledMixupLoss(eta=0.5)(LOGITS, labels,
                                                 reduction_override='none')
        assert per_sample[:2].tolist() == pytest.approx(expected, rel=1e-6)
        assert per_sample[0].item() > soft_ce[0] + 0.1


def _reference_loss(pred, y_a, y_b, lam, eta):
    """OpenMixup, transcribed: ClsMixupHead's mixed label and eta weights
    (eta_weight mode 'both', lam_scale_mode 'pow', lam_thr 1, lam_idx 1),
    then soft_mix_cross_entropy (no smoothing, no class weight), mean over
    the batch (avg_factor N)."""
    k = pred.size(1)
    label = lam * F.one_hot(y_a, k) + (1 - lam) * F.one_hot(y_b, k)
    eta_weight = [eta * lam, eta * (1 - lam)]
    _eps = 1e-3
    n = label.size(0)
    mask_one = (label > _eps).sum(dim=-1)
    mix_num = max(mask_one)
    mask_one = mask_one >= mix_num
    pred_one, label_one = pred[~mask_one], label[~mask_one]
    pred, label = pred[mask_one], label[mask_one]
    bs, cls_num = label.size()
    mask_lam_k = label > _eps
    lam_k = label[0, label[0, :] > _eps]
    loss = (-label * F.log_softmax(pred, dim=-1)).sum(dim=-1)
    if len(set(lam_k.numpy())) == lam_k.size(0) and lam_k.size(0) > 1:
        for i in range(lam_k.size(0)):
            mask_lam_i = (label == lam_k[i]) | ~mask_lam_k
            pred_lam_i = pred.reshape([1, bs, -1])[:, mask_lam_i].reshape(
                [-1, cls_num + 1 - lam_k.size(0)])
            label_lam_i = label.reshape([1, bs, -1])[:, mask_lam_i].reshape(
                [-1, cls_num + 1 - lam_k.size(0)])
            label_lam_i = (label_lam_i > 0).type(torch.float)
            loss_global = -label_lam_i * F.log_softmax(pred_lam_i, dim=-1)
            loss += eta_weight[i] * loss_global.sum(dim=-1)
    loss = loss.sum() / n
    if len(label_one):
        loss += (-label_one * F.log_softmax(pred_one, dim=-1)).sum() / n
    return loss


@pytest.mark.parametrize('lam', [0.5 + 4e-6, 0.5 - 4e-6, 0.5 + 2e-7, 0.5,
                                 0.7])
@pytest.mark.parametrize('owns,partners', [([3, 0, 1], [1, 2, 1]),
                                           ([1, 2, 0], [3, 0, 0])])
def test_reference_pairing_equals_reference_near_half(lam, owns, partners):
    # The reference drops the decoupled term only when the first mixed
    # row's two label values are exactly equal (set(lam_k)), so a lam a few
    # 1e-6 from 0.5 keeps it, with its class-order pairing.
    y_a, y_b = torch.tensor(owns), torch.tensor(partners)
    expected = _reference_loss(LOGITS, y_a, y_b, lam, eta=0.5)
    labels = lam * F.one_hot(y_a, 4) + (1 - lam) * F.one_hot(y_b, 4)
    got = DecoupledMixupLoss(eta=0.5, pairing='reference')(
        LOGITS, labels, own_label=y_a)
    assert got.item() == pytest.approx(expected.item(), rel=1e-6)
    soft_ce = -(labels * LOGITS.log_softmax(1)).sum(1).mean()
    if lam == 0.5:
        assert got.item() == pytest.approx(soft_ce.item(), rel=1e-6)
    else:  # the term is there, and it is not small
        assert got.item() > soft_ce.item() + 0.2


@pytest.mark.parametrize('eps', [0., 0.1])
def test_reference_pairing_keeps_term_at_half_plus_4e_6_by_hand(eps):
    # lam = 0.5 + 4e-6: rows 0 and 1 mixed (row 0's own class 3 > partner
    # 1: eta*lam goes to the lower class, the partner, in every row), row 2
    # class 1 with itself. The term is kept: soft CE + eta*(1-lam) on the
    # own class (partner dropped) + eta*lam on the partner (own dropped).
    lam, eta, k = 0.5 + 4e-6, 0.5, 4
    owns, partners = [3, 0, 1], [1, 2, 1]
    pure = _batch(owns, partners, lam)
    smoothed = pure * (1 - eps) + eps / k
    expected = []
    for i in range(3):
        row, label = LOGITS[i].tolist(), smoothed[i].tolist()
        pairs = [] if owns[i] == partners[i] else [
            (owns[i], partners[i], 1 - lam), (partners[i], owns[i], lam)]
        expected.append(_by_hand(row, label, pairs, eta))
    got = DecoupledMixupLoss(eta=eta, label_smoothing=eps,
                             pairing='reference')(
        LOGITS, smoothed, own_label=torch.tensor(owns),
        reduction_override='none')
    assert got.tolist() == pytest.approx(expected, rel=1e-6)
    # What dropping the term (the old 1e-5 tolerance) would give instead.
    soft_ce = [_soft_ce(LOGITS[i].tolist(), smoothed[i].tolist())
               for i in range(3)]
    assert expected[0] - soft_ce[0] > 0.4


def test_reference_pairing_refuses_per_sample_lam():
    labels = torch.tensor([_mix(4, 1, 3, 0.7), _mix(4, 2, 0, 0.6)])
    with pytest.raises(ValueError, match='one lam per batch'):
        DecoupledMixupLoss(pairing='reference')(
            LOGITS[:2], labels, own_label=torch.tensor([1, 2]))
    # per_sample takes it
    DecoupledMixupLoss()(LOGITS[:2], labels)


def test_reference_pairing_own_label_needed_only_when_mixed():
    ref = DecoupledMixupLoss(pairing='reference')
    with pytest.raises(ValueError, match='own_label'):
        ref(LOGITS[:1], torch.tensor([_mix(4, 1, 3, 0.7)]))
    with pytest.raises(ValueError, match='own_label'):  # not in the mix
        ref(LOGITS[:1], torch.tensor([_mix(4, 1, 3, 0.7)]),
            own_label=torch.tensor([0]))
    # Pure labels (SMMixClsHead's token-head terms): plain cross-entropy.
    idx = torch.tensor([0, 1, 0])
    ce = sum(-_log_softmax(LOGITS[i].tolist())[int(idx[i])]
             for i in range(3)) / 3
    assert ref(LOGITS, idx).item() == pytest.approx(ce, rel=1e-6)
    smoothed_ref = DecoupledMixupLoss(pairing='reference',
                                      label_smoothing=0.1)
    onehot = torch.nn.functional.one_hot(idx, 4).float() * 0.9 + 0.1 / 4
    soft = sum(_soft_ce(LOGITS[i].tolist(), onehot[i].tolist())
               for i in range(3)) / 3
    assert smoothed_ref(LOGITS, onehot).item() == pytest.approx(soft,
                                                                rel=1e-6)


def test_reference_pairing_undoes_label_smoothing():
    eps, k, lam, eta = 0.1, 4, 0.7, 0.2
    owns, partners = [3, 0], [1, 2]  # row 0 own has the larger index: swap
    pure = _batch(owns, partners, lam)
    smoothed = pure * (1 - eps) + eps / k
    expected = []
    for i in range(2):
        row = LOGITS[i].tolist()
        expected.append(_by_hand(row, smoothed[i].tolist(), [
            (owns[i], partners[i], 1 - lam), (partners[i], owns[i], lam)],
            eta))
    got = DecoupledMixupLoss(eta=eta, label_smoothing=eps,
                             pairing='reference')(
        LOGITS[:2], smoothed, own_label=torch.tensor(owns),
        reduction_override='none')
    assert got.tolist() == pytest.approx(expected, rel=1e-6)


def test_bogus_pairing_refused():
    with pytest.raises(ValueError, match='pairing'):
        DecoupledMixupLoss(pairing='bogus')


def test_reference_pairing_through_mix_image_classifier():
    """MixImageClassifier passes own_label (from gt_label) to the loss."""
    np.random.seed(0)  # mmpretrain's Mixup draws lam from numpy
    model = MODELS.build(dict(
        type='MixImageClassifier',
        backbone=tiny_vit_cfg(),
        head=dict(type='SMMixClsHead', num_classes=10, in_channels=64,
                  loss=dict(type='DecoupledMixupLoss', eta=0.5,
                            pairing='reference')),
        train_cfg=dict(augments=dict(type='Mixup', alpha=1.0))))
    model.train()
    loss_module = model.head.loss_module
    seen = {}

    def hook(module, args, kwargs, output):
        seen.update(args=args, kwargs=kwargs, output=output)

    handle = loss_module.register_forward_hook(hook, with_kwargs=True)
    labels = [1, 4, 8, 3]
    inputs = torch.randn(4, 1, 28, 28)
    samples = [DataSample().set_gt_label(k) for k in labels]
    losses = model.loss(inputs, samples)
    handle.remove()

    own = torch.cat([s.gt_label for s in samples])
    assert own.tolist() == labels
    assert torch.equal(seen['kwargs']['own_label'], own)
    cls_score = seen['args'][0]
    target = torch.stack([s.gt_score for s in samples])
    assert not torch.equal(target, torch.nn.functional.one_hot(
        own, 10).float())  # really mixed
    direct = loss_module(cls_score, target, avg_factor=4, own_label=own)
    assert losses['loss_cls'].item() == pytest.approx(direct.item(),
                                                      rel=1e-6)
    soft_ce = -(target * cls_score.float().log_softmax(1)).sum(1).mean()
    assert losses['loss_cls'].item() > soft_ce.item() + 1e-4
