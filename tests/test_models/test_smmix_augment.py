"""Tests of the SMMix batch augment on a tiny MixImageClassifier."""
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import BATCH_AUGMENTS, MODELS

import mmsmmix  # noqa: F401
from mmsmmix.models.augments import SMMix
from mmsmmix.models.probes import AttentionRecord
from tests.helpers import tiny_vit_cfg

NUM_CLASSES = 10
LABELS = torch.tensor([0, 3, 7, 9])


def _model(augment=None, **backbone_kwargs):
    return MODELS.build(
        dict(
            type='MixImageClassifier',
            backbone=tiny_vit_cfg(**backbone_kwargs),
            head=dict(
                type='SMMixClsHead',
                num_classes=NUM_CLASSES,
                in_channels=64,
                loss=dict(type='CrossEntropyLoss', use_soft=True)),
            train_cfg=dict(augments=augment or dict(type='SMMix'))))


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return _model()


def _onehot(labels=LABELS):
    return F.one_hot(labels, NUM_CLASSES).float()


def _mix(aug, model, x, targets=None):
    """(mixed, targets, mix_info or None, info) of one SMMix call."""
    result = aug.mix(x, _onehot() if targets is None else targets,
                     model.mix_context)
    return (result.inputs, result.targets,
            result.head_kwargs.get('mix_info'), result.info)


def _smooth(onehot):
    """0.9 * onehot + 0.01 (eps 0.1 over 10 classes), written by hand."""
    return 0.9 * onehot + 0.01


def _hand_scores(model, x):
    """Patch-to-patch column means of the last block, from a captured
    attention, reduced by hand (not by mmsmmix.ops)."""
    _, record = model.mix_context.clean_forward(x, 'patch')
    return record.attn[:, :, 1:, 1:].mean(dim=(1, 2)).reshape(-1, 7, 7)


def _hand_windows(scores, r):
    """(argmin, argmax) corners of r x r window sums, python loops."""
    out = []
    for m in scores:
        sums = {(u, v): float(m[u:u + r, v:v + r].sum())
                for u in range(7 - r + 1) for v in range(7 - r + 1)}
        out.append((min(sums, key=sums.get), max(sums, key=sums.get)))
    return out


def test_smmix_branch_labels_masks_and_lam(model):
    """switch_prob=1: lam = 1 - r^2/49, mixed/pure labels, r*r masks."""
    aug = SMMix(switch_prob=1., seed=0)
    x = torch.randn(4, 1, 28, 28)
    seen = set()
    for _ in range(6):
        mixed, score, info, drawn = _mix(aug, model, x)
        r = drawn['region_size']
        seen.add(r)
        assert drawn['branch'] == 'smmix'
        assert r in (1, 2, 3, 4, 5)
        assert info['lam'] == pytest.approx(1 - r * r / 49)
        lam = info['lam']
        smooth = _smooth(_onehot())
        assert torch.allclose(score, lam * smooth + (1 - lam) * smooth.flip(0))
        assert torch.allclose(info['target_score'], smooth)
        assert torch.allclose(info['source_score'], smooth.flip(0))
        mask = info['source_mask']
        assert mask.shape == (4, 49) and mask.dtype == torch.bool
        assert mask.sum(1).tolist() == [r * r] * 4
        assert info['clean_logits'].shape == (4, NUM_CLASSES)
        assert mixed.shape == x.shape
    assert len(seen) > 1, 'region size never changed'


def test_smmix_moves_partner_max_window_onto_min_window(model):
    """Pixels: partner's most-attended r x r block lands on the
    least-attended block (windows found by hand loops); rest unchanged."""
    aug = SMMix(switch_prob=1., seed=3)
    x = torch.randn(4, 1, 28, 28)
    original = x.clone()
    mixed, _, info, drawn = _mix(aug, model, x)
    assert torch.equal(x, original), 'inputs modified in place'
    r = drawn['region_size']
    region = drawn['region']  # the windows the op reports are these
    windows = _hand_windows(_hand_scores(model, x), r)
    expected = x.clone()
    p = 4 * r  # pixels per region side (4-px cells)
    for i in range(4):
        (u, v), _ = windows[i]
        _, (us, vs) = windows[3 - i]
        expected[i, :, 4 * u:4 * u + p, 4 * v:4 * v + p] = \
            x[3 - i, :, 4 * us:4 * us + p, 4 * vs:4 * vs + p]
        mask = torch.zeros(7, 7, dtype=torch.bool)
        mask[u:u + r, v:v + r] = True
        assert torch.equal(info['source_mask'][i], mask.flatten())
        assert int(region.target_windows[i]) == u * (7 - r + 1) + v
        assert int(region.source_windows[3 - i]) == us * (7 - r + 1) + vs
    assert torch.equal(mixed, expected)


def test_clean_forward_runs_in_eval_mode_and_restores_train():
    """Clean logits equal an eval-mode forward (dropout off), and the
    model's train/eval mode is restored afterwards."""
    model = _model(drop_rate=0.5)
    x = torch.randn(4, 1, 28, 28)
    model.eval()
    with torch.no_grad():
        eval_logits = model(x, mode='tensor')
    model.train()
    with torch.no_grad():
        train_logits = model(x, mode='tensor')
    assert not torch.allclose(eval_logits, train_logits), \
        'dropout has no effect; the test cannot tell the modes apart'

    aug = SMMix(switch_prob=1., seed=0)
    _, _, info, _ = _mix(aug, model, x)
    assert torch.allclose(info['clean_logits'], eval_logits, atol=1e-6)
    assert not info['clean_logits'].requires_grad
    assert model.training and model.backbone.training
    assert all(m.training for m in model.modules())

    model.eval()
    _, _, info, _ = _mix(aug, model, x)
    assert not any(m.training for m in model.modules())
    assert torch.allclose(info['clean_logits'], eval_logits, atol=1e-6)


def test_mixup_branch(model):
    """switch_prob=0: Mixup with the batch reversed, no mix_info."""
    aug = SMMix(switch_prob=0., seed=1)
    x = torch.randn(4, 1, 28, 28)
    original = x.clone()
    lams = []
    for _ in range(3):
        mixed, score, info, drawn = _mix(aug, model, x)
        assert info is None and drawn['branch'] == 'mixup'
        # score[0, label 0] = lam * 0.91 + (1 - lam) * 0.01
        lam = (score[0, 0].item() - 0.01) / 0.9
        assert lam == pytest.approx(drawn['lam'], abs=1e-6)
        assert 0 <= lam <= 1
        smooth = _smooth(_onehot())
        assert torch.allclose(score, lam * smooth + (1 - lam) * smooth.flip(0),
                              atol=1e-6)
        assert torch.allclose(mixed, lam * x + (1 - lam) * x.flip(0),
                              atol=1e-5)
        lams.append(lam)
    assert torch.equal(x, original)
    assert len(set(round(v, 6) for v in lams)) == 3


def test_label_smoothing_zero_and_soft_scores(model):
    """label_smoothing=0 keeps pure one-hots; soft input scores are used."""
    aug = SMMix(switch_prob=1., label_smoothing=0., seed=0)
    _, score, info, _ = _mix(aug, model, torch.randn(4, 1, 28, 28))
    assert torch.equal(info['target_score'], _onehot())
    lam = info['lam']
    expected = lam * _onehot() + (1 - lam) * _onehot().flip(0)
    assert torch.allclose(score, expected)


def test_same_seed_same_draws(model):
    """SMMix(seed=s) makes the same branch/region/lam sequence each time."""
    x = torch.randn(4, 1, 28, 28)

    def draws(seed):
        aug = SMMix(switch_prob=.5, seed=seed)
        out = []
        for _ in range(8):
            _, score, _, drawn = _mix(aug, model, x)
            out.append((drawn['branch'], drawn.get('region_size'),
                        round(score[0, 0].item(), 6)))
        return out

    first = draws(123)
    assert first == draws(123)
    assert {b for b, _, _ in first} == {'smmix', 'mixup'}
    assert first != draws(124)


def test_needs_model():
    """Without a MixImageClassifier the augment raises TypeError."""
    aug = SMMix()
    x, y = torch.randn(2, 1, 28, 28), _onehot(torch.tensor([1, 2]))
    with pytest.raises(TypeError, match='MixImageClassifier'):
        aug(x, y)  # MMPretrain's batch-augment call
    with pytest.raises(TypeError, match='MixImageClassifier'):
        aug.mix(x, y)  # no context


@pytest.mark.parametrize('kwargs,key', [
    (dict(switch_prob=1.5), 'switch_prob'),
    (dict(switch_prob=-.1), 'switch_prob'),
    (dict(attn_stat='mean'), 'attn_stat'),
    (dict(min_side_ratio=0.), 'min_side_ratio'),
    (dict(max_side_ratio=1.2), 'max_side_ratio'),
    (dict(mixup_alpha=0.), 'mixup_alpha'),
    (dict(mixup_alpha=float('nan')), 'mixup_alpha'),
    (dict(mixup_alpha=float('inf')), 'mixup_alpha'),
    (dict(label_smoothing=1.), 'label_smoothing'),
])
def test_invalid_args_name_the_key(kwargs, key):
    """Each invalid argument raises ValueError naming it."""
    with pytest.raises(ValueError, match=key):
        SMMix(**kwargs)


def test_registered_and_flags():
    """SMMix is in BATCH_AUGMENTS and asks for the model and attention."""
    aug = BATCH_AUGMENTS.build(dict(type='SMMix', switch_prob=.3))
    assert isinstance(aug, SMMix) and aug.switch_prob == .3
    assert aug.uses_model and aug.attn_stat == 'patch'
    assert aug.label_smoothing == 0.1
    assert 'switch_prob=0.3' in repr(aug)
    assert list(aug.random_streams()) == ['random']
    with pytest.warns(DeprecationWarning, match='attn_stat'):
        assert SMMix(score='cls').attn_stat == 'cls'


def test_cls_score_mode_uses_cls_row(model):
    """attn_stat='cls' picks windows from the CLS-to-patch attention row."""
    aug = SMMix(switch_prob=1., attn_stat='cls', seed=5)
    x = torch.randn(4, 1, 28, 28)
    mixed, _, info, drawn = _mix(aug, model, x)
    r = drawn['region_size']
    _, record = model.mix_context.clean_forward(x, 'cls')
    scores = record.attn[:, :, 0, 1:].mean(1).reshape(-1, 7, 7)
    windows = _hand_windows(scores, r)
    for i in range(4):
        (u, v), _ = windows[i]
        mask = torch.zeros(7, 7, dtype=torch.bool)
        mask[u:u + r, v:v + r] = True
        assert torch.equal(info['source_mask'][i], mask.flatten())


@pytest.mark.parametrize('img_size,patch_size', [(30, 4), (30, 7)])
def test_input_not_whole_patches_raises(img_size, patch_size):
    """Inputs that are not a whole number of patches are rejected: 30 px with
    patch 4 (grid 8 after padding does not divide 30) and 30 px with patch 7
    (grid 5 divides 30, but 6-px cells would not line up with 7-px
    patches). The model is built for 28 px, so only the batch is wrong."""
    model = _model(patch_size=patch_size)
    with pytest.raises(ValueError, match='not a whole number'):
        SMMix(switch_prob=1.).mix(torch.randn(2, 1, img_size, img_size),
                                  _onehot(torch.tensor([0, 1])),
                                  model.mix_context)


@pytest.mark.parametrize('img_size,patch_size,message', [
    (30, 4, 'not a whole number'),
    (30, 7, 'not a whole number'),
    ((28, 36), 4, 'needs a square token grid, got 7x9'),
])
def test_backbone_input_size_checked_when_built(img_size, patch_size,
                                                message):
    """A backbone configured for inputs SMMix cannot mix is refused when the
    model is built, naming the configured size."""
    h, w = (img_size, img_size) if isinstance(img_size, int) else img_size
    with pytest.raises(ValueError) as err:
        _model(img_size=img_size, patch_size=patch_size)
    assert f'model.backbone is built for {h}x{w} inputs' in str(err.value)
    assert message in str(err.value)


def test_window_choice_by_hand():
    """``window_scores`` + ``windows`` on a hand-made attention record: a
    4x4 grid (16-px image, 4-px cells), no CLS; 'patch' scores are the
    column means over heads and queries, so key k's score is the attention
    every query gives it. Image 0 attends only to patch 15 (bottom right),
    image 1 only to patch 0 (top left). With r = 2 (sides 1..3 at ratios
    .25/.75) each image's least-attended window is the first one (raster
    order) without its attended patch, and it receives its partner's
    window holding the partner's attended patch."""
    aug = SMMix(min_side_ratio=0.25, max_side_ratio=0.75)
    attn = torch.full((2, 1, 16, 16), 0.)
    attn[0, :, :, 15] = 1.  # image 0: all attention on patch 15
    attn[1, :, :, 0] = 1.  # image 1: all attention on patch 0
    record = AttentionRecord(attn=attn, num_extra_tokens=0, grid=(4, 4),
                             patch_size=(4, 4))
    inputs = torch.stack([torch.zeros(1, 16, 16), torch.ones(1, 16, 16)])
    scores = aug.window_scores(inputs, record)
    assert scores.side == 4 and scores.sizes == [1, 2, 3]
    expected = torch.zeros(2, 16)
    expected[0, 15] = expected[1, 0] = 1.
    assert torch.equal(scores.scores, expected)

    region = aug.windows(inputs, scores, 2)
    # windows of side 2 on a 4x4 grid: 3x3 = 9 positions, raster order.
    # Image 1's most attended window holds patch 0: position 0 only.
    # Image 0's most attended window holds patch 15: position 8 only.
    assert region.source_windows.tolist() == [8, 0]
    # least attended: image 0's first window without patch 15 (position
    # 0); image 1's first window without patch 0 (position 1)
    assert region.target_windows.tolist() == [0, 1]
    # image 0 (zeros) receives image 1's (ones) window at rows 0-7, cols
    # 0-7 of its pixels; image 1 receives image 0's zeros at rows 0-7,
    # cols 4-11
    want = inputs.clone()
    want[0, :, 0:8, 0:8] = 1.
    want[1, :, 0:8, 4:12] = 0.
    assert torch.equal(region.mixed, want)
    assert region.lam == pytest.approx(1 - 4 / 16)

    with pytest.raises(ValueError, match=r'\[1, 2, 3\].*got 4'):
        aug.windows(inputs, scores, 4)


def test_mix_chooses_windows_through_windows(model):
    """mix() takes its windows from ``windows`` (the one window choice the
    benchmarks and visualisers call): the same draws give the same
    mixed batch."""
    aug = SMMix(switch_prob=1., seed=3)
    calls = []
    windows = aug.windows

    def spy(inputs, scores, region_size, targets=None):
        region = windows(inputs, scores, region_size, targets)
        calls.append((scores, region_size, region))
        return region

    aug.windows = spy
    x = torch.randn(4, 1, 28, 28)
    result = aug.mix(x, _onehot(), model.mix_context)
    (scores, r, region), = calls
    assert result.info['region_size'] == r and r in scores.sizes
    assert torch.equal(result.inputs, region.mixed)
    assert result.info['region'] is region
