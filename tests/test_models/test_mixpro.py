"""MixPro against the official training loop (fistyee/MixPro ``main.py``
and ``utils.MaskMix``), transcribed by hand here and fed the same draws:
MaskMix masks, partners, mixed images and labels; PAL's lam, loss and
gradient; the Mixup/CutMix branches. Then each switch away from the
official code, the build-time layout check and a training step."""
import math
import zlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import mmsmmix  # noqa: F401
from mmsmmix.models.augments import MixPro
from mmsmmix.models.probes import AttentionRecord, build_attention_probe
from mmsmmix.ops import cell_token_masks
from tests.helpers import record_mixes, tiny_vit_cfg

SEED = 3
K = 10


def _stream(seed=SEED):
    """The generator MixPro's SyncedRandom(seed, 'MixPro') draws from."""
    return np.random.default_rng([seed, zlib.crc32(b'MixPro')])


def _model(head_loss=None, **mixpro):
    mixpro.setdefault('seed', SEED)
    return MODELS.build(
        dict(
            type='MixImageClassifier',
            backbone=tiny_vit_cfg(out_type='cls_token'),  # 7x7 of 4 px
            head=dict(
                type='VisionTransformerClsHead',
                num_classes=K,
                in_channels=64,
                loss=head_loss or dict(type='CrossEntropyLoss',
                                       use_soft=True)),
            train_cfg=dict(augments=dict(type='MixPro', **mixpro))))


def _one_hot(labels, smoothing=0.):
    off = smoothing / K
    return F.one_hot(torch.tensor(labels), K).float() * (1 - smoothing) + off


def _official_maskmix(samples, labels, rng, cell_tokens, patch=4,
                      smoothing=0.1):
    """utils.MaskMix and the randperm partner of main.py, on our draws (in
    our order: ratio, one cell permutation per sample, the partner)."""
    batch, size = samples.shape[0], samples.shape[2]
    mask_patch_size = cell_tokens * patch
    mask_num = math.ceil(size / mask_patch_size)
    token_count = mask_num**2
    ratio = rng.beta(1., 1.)
    mask_count = int(np.ceil(token_count * ratio))
    mask_ratio = mask_count / token_count
    mask = np.zeros((batch, token_count), dtype=int)
    for i in range(batch):
        mask[i][rng.permutation(token_count)[:mask_count]] = 1
    index = torch.from_numpy(rng.permutation(batch))
    cells = mask.reshape(batch, mask_num, mask_num)
    token_mask = cells.repeat(cell_tokens, 1).repeat(cell_tokens, 2)
    pixel_mask = cells.repeat(mask_patch_size, 1).repeat(mask_patch_size, 2)
    pixel_mask = torch.from_numpy(pixel_mask)[:, None, :size, :size]
    mixed = samples * pixel_mask + samples[index] * (1 - pixel_mask)
    y1 = _one_hot(labels, smoothing)
    targets = y1 * mask_ratio + y1[index] * (1 - mask_ratio)
    patch_num = size // patch
    token_mask = torch.from_numpy(token_mask[:, :patch_num, :patch_num])
    return dict(mixed=mixed, targets=targets, mask_ratio=mask_ratio,
                index=index, token_mask=token_mask.flatten(1).float())


def test_cells_follow_the_grid_per_sample():
    masks = cell_token_masks(7, 2, 0.4, np.random.default_rng(1), batch=6)
    assert masks.shape == (6, 7, 7)
    counts = []
    for mask in masks:
        kept = 0
        for i in range(4):
            for j in range(4):
                block = mask[2 * i:2 * i + 2, 2 * j:2 * j + 2]
                assert block.all() or not block.any()  # whole cells only
                kept += int(block.all())
        counts.append(kept)
    assert counts == [math.ceil(16 * 0.4)] * 6  # same count per image
    assert len({m.numpy().tobytes() for m in masks}) > 1  # masks differ
    shared = cell_token_masks(7, 2, 0.4, np.random.default_rng(1), batch=6,
                              per_sample=False)
    assert all(torch.equal(m, shared[0]) for m in shared)
    assert torch.equal(shared[0], masks[0])  # the same first permutation


@pytest.mark.parametrize('cell_tokens', [2, 3])  # 2 and 3 crop on 7x7
def test_maskmix_equals_official(cell_tokens):
    model = _model(cell_tokens=cell_tokens, maskmix_prob=1.)
    aug = model.augments[0]
    images = torch.rand(5, 1, 28, 28)
    labels = [0, 3, 3, 7, 9]
    result = aug.mix(images, _one_hot(labels), model.mix_context)
    mixed, score = result.inputs, result.targets
    official = _official_maskmix(images, labels, _stream(), cell_tokens)
    assert result.head_kwargs == {} and result.info['branch'] == 'maskmix'
    assert torch.equal(mixed, official['mixed'])
    assert torch.allclose(score, official['targets'], atol=1e-6)
    batch = result.info['batch']
    assert torch.equal(batch.partner, official['index'])
    assert torch.equal(batch.tokens, official['token_mask'])
    # lam is the cell share even though cells are cropped (7 = 2+2+2+1).
    assert torch.allclose(batch.lam_area,
                          torch.full((5, ), official['mask_ratio']))


def _crafted_record(batch, seed=0):
    """Attention whose head-mean CLS row is ``rows`` (B, 1 + 49)."""
    rows = torch.rand(batch, 50, generator=torch.Generator().manual_seed(
        seed))
    attn = torch.zeros(batch, 2, 50, 50)
    attn[:, 0, 0], attn[:, 1, 0] = rows * 0.5, rows * 1.5
    return rows, AttentionRecord(attn=attn, num_extra_tokens=1, grid=(7, 7),
                                 patch_size=(4, 4))


def _official_pal_loss(outputs, attn_rows, official, labels):
    """main.py's PAL branch: lam from attention and sim (with gradient),
    then hard cross-entropies, no smoothing."""
    attn = attn_rows[:, 1:]
    mask = official['token_mask']
    w1, w2 = (mask * attn).sum(1), ((1 - mask) * attn).sum(1)
    lam = w1 / (w1 + w2)
    sim = torch.cosine_similarity(official['targets'],
                                  F.softmax(outputs, dim=-1), dim=1)
    lam = sim * lam + (1. - sim) * official['mask_ratio']
    targets = torch.tensor(labels)
    ce = torch.nn.CrossEntropyLoss(reduction='none')
    return (lam * ce(outputs, targets) +
            (1 - lam) * ce(outputs, targets[official['index']])).mean()


def test_pal_loss_and_gradient_equal_official():
    model = _model(cell_tokens=2, maskmix_prob=1.)
    aug = model.augments[0]
    labels = [1, 4, 4, 8]
    images = torch.rand(4, 1, 28, 28)
    result = aug.mix(images, _one_hot(labels), model.mix_context)
    official = _official_maskmix(images, labels, _stream(), 2)
    rows, record = _crafted_record(4)
    logits = torch.randn(4, K, generator=torch.Generator().manual_seed(1))

    ours_in = logits.clone().requires_grad_()
    assert result.relabel.attn_stat == 'cls'
    label = result.relabel.fn(record, ours_in)
    assert torch.allclose(label.sum(1), torch.ones(4))
    assert label.min() == 0  # hard: PAL labels are not smoothed
    ours = -(label * ours_in.log_softmax(1)).sum(1).mean()
    ours.backward()

    official_in = logits.clone().requires_grad_()
    expected = _official_pal_loss(official_in, rows, official, labels)
    expected.backward()
    assert ours.item() == pytest.approx(expected.item(), rel=1e-5)
    # sim carries gradient, as in the official code.
    assert torch.allclose(ours_in.grad, official_in.grad, atol=1e-6)

    # detach_sim=True: same value, gradient without the path through sim.
    detached = _model(cell_tokens=2, maskmix_prob=1., detach_sim=True)
    aug = detached.augments[0]
    result = aug.mix(images, _one_hot(labels), detached.mix_context)
    plain_in = logits.clone().requires_grad_()
    label = result.relabel.fn(record, plain_in)
    loss = -(label * plain_in.log_softmax(1)).sum(1).mean()
    loss.backward()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    fixed = label.detach()
    ref_in = logits.clone().requires_grad_()
    (-(fixed * ref_in.log_softmax(1)).sum(1).mean()).backward()
    assert torch.allclose(plain_in.grad, ref_in.grad, atol=1e-7)
    assert not torch.allclose(plain_in.grad, official_in.grad, atol=1e-6)


def test_mixup_and_cutmix_branches_are_timms():
    images = torch.rand(4, 1, 28, 28)
    labels = [2, 5, 6, 9]
    y = _one_hot(labels, 0.1)
    # Mixup: maskmix coin (never MaskMix at p=0 with maskmix_zero='never'),
    # cutmix coin, Beta(0.8).
    model = _model(maskmix_prob=0., cutmix_prob=0., maskmix_zero='never')
    aug = model.augments[0]
    result = aug.mix(images, _one_hot(labels), model.mix_context)
    mixed, score = result.inputs, result.targets
    assert result.info['branch'] == 'mixup'
    rng = _stream()
    rng.random(), rng.random()
    lam = rng.beta(0.8, 0.8)
    assert torch.allclose(mixed, lam * images + (1 - lam) * images.flip(0))
    assert torch.allclose(score, lam * y + (1 - lam) * y.flip(0), atol=1e-6)
    assert result.relabel is None  # PAL: MaskMix batches only

    # CutMix: timm's box (centre y then x), lam corrected to the box.
    model = _model(maskmix_prob=0., cutmix_prob=1., maskmix_zero='never')
    aug = model.augments[0]
    result = aug.mix(images, _one_hot(labels), model.mix_context)
    mixed, score = result.inputs, result.targets
    assert result.info['branch'] == 'cutmix'
    rng = _stream()
    rng.random(), rng.random()
    lam = rng.beta(1., 1.)
    cut = int(28 * np.sqrt(1. - lam))
    cy, cx = rng.integers(0, 28), rng.integers(0, 28)
    yl, yh = np.clip(cy - cut // 2, 0, 28), np.clip(cy + cut // 2, 0, 28)
    xl, xh = np.clip(cx - cut // 2, 0, 28), np.clip(cx + cut // 2, 0, 28)
    expected = images.clone()
    expected[:, :, yl:yh, xl:xh] = images.flip(0)[:, :, yl:yh, xl:xh]
    lam = 1 - (yh - yl) * (xh - xl) / 28**2
    assert torch.equal(mixed, expected)
    assert torch.allclose(score, lam * y + (1 - lam) * y.flip(0), atol=1e-6)


def _official_gate(maskmix_prob, rands, maskmix_alpha=1.):
    """main.py's train_one_epoch gate: the flag starts on when
    MASKMIX_ALPHA > 0 and each batch's coin only resets it when
    MASKMIX_PROB > 0. True where the batch runs MaskMix."""
    maskmix = False
    if maskmix_alpha > 0:
        maskmix = True
    branches = []
    for rand in rands:
        if maskmix_prob > 0:
            if rand < maskmix_prob:
                maskmix = True
            else:
                maskmix = False
        branches.append(maskmix)
    return branches


def test_zero_maskmix_prob_is_maskmix_every_batch_as_official():
    # The official loop at MASKMIX_PROB = 0: MaskMix on every batch, whatever
    # the coins (and at 1; at 0.5 the coin decides).
    coins = [0.0, 0.3, 0.7, 0.99]
    assert _official_gate(0., coins) == [True] * 4
    assert _official_gate(1., coins) == [True] * 4
    assert _official_gate(0.5, coins) == [True, True, False, False]

    # Ours by default: MaskMix every batch, no coin drawn (as at 1), so
    # three batches in a row equal utils.MaskMix on the same stream.
    model = _model(cell_tokens=2, maskmix_prob=0.)
    aug = model.augments[0]
    assert aug.maskmix_zero == 'always' and "maskmix_zero='always'" in \
        repr(aug)
    rng = _stream()
    labels = [0, 3, 3, 7, 9]
    for step in range(3):
        images = torch.rand(5, 1, 28, 28,
                            generator=torch.Generator().manual_seed(step))
        result = aug.mix(images, _one_hot(labels), model.mix_context)
        official = _official_maskmix(images, labels, rng, 2)
        assert result.info['branch'] == 'maskmix'
        assert result.relabel is not None  # PAL, as on any MaskMix batch
        assert torch.equal(result.inputs, official['mixed'])
        assert torch.allclose(result.targets, official['targets'],
                              atol=1e-6)
        assert torch.equal(result.info['batch'].partner, official['index'])

    # maskmix_zero='never': 0 turns MaskMix off, Mixup/CutMix every batch.
    model = _model(cell_tokens=2, maskmix_prob=0., maskmix_zero='never')
    aug = model.augments[0]
    branches = {aug.mix(torch.rand(4, 1, 28, 28), _one_hot([1, 2, 3, 4]),
                        model.mix_context).info['branch']
                for _ in range(8)}
    assert branches <= {'mixup', 'cutmix'} and branches


def test_maskmix_zero_only_changes_zero():
    # Any other maskmix_prob: the same coins, branches and outputs.
    images = torch.rand(4, 1, 28, 28)
    labels = _one_hot([1, 5, 5, 8])
    runs = []
    for zero in ('always', 'never'):
        model = _model(cell_tokens=2, maskmix_prob=0.5, maskmix_zero=zero)
        aug = model.augments[0]
        runs.append([aug.mix(images, labels, model.mix_context)
                     for _ in range(6)])
    assert {r.info['branch'] for r in runs[0]} >= {'maskmix'}
    assert len({r.info['branch'] for r in runs[0]}) > 1
    for a, b in zip(*runs):
        assert a.info['branch'] == b.info['branch']
        assert torch.equal(a.inputs, b.inputs)
        assert torch.equal(a.targets, b.targets)


def test_switches_away_from_official():
    images = torch.rand(4, 1, 28, 28)
    labels = [0, 1, 2, 3]
    # Today's composable MaskMix: one mask, the batch reversed, token share,
    # unsmoothed labels (the head smooths), sim without gradient.
    model = _model(cell_tokens=2, maskmix_prob=1., masks='batch',
                   partner='flip', area_lam='tokens', label_smoothing=0.,
                   detach_sim=True)
    aug = model.augments[0]
    result = aug.mix(images, _one_hot(labels), model.mix_context)
    mixed, score = result.inputs, result.targets
    rng = _stream()
    share = rng.beta(1., 1.)
    keep = math.ceil(16 * share)
    cells = np.zeros(16, dtype=bool)
    cells[rng.permutation(16)[:keep]] = True
    tokens = torch.from_numpy(cells.reshape(4, 4).repeat(2, 0).repeat(
        2, 1)[:7, :7])
    pixels = tokens.repeat_interleave(4, 0).repeat_interleave(4, 1)
    assert torch.equal(mixed, torch.where(pixels, images, images.flip(0)))
    lam = tokens.float().mean().item()
    y = _one_hot(labels)
    assert torch.allclose(score, lam * y + (1 - lam) * y.flip(0))
    if keep % 4 and lam != keep / 16:  # a cropped cell was drawn
        assert result.info['lam'][0].item() != pytest.approx(keep / 16)

    rows, record = _crafted_record(4)
    logits = torch.tensor([[2., 0.] + [0.] * 8] * 4)
    relabelled = result.relabel.fn(record, logits)
    for i in range(4):
        attn = rows[i, 1:]
        lam_attn = (attn * tokens.flatten().float()).sum() / attn.sum()
        probs = logits[i].softmax(0)
        sim = (score[i] @ probs) / (score[i].norm() * probs.norm())
        lam_i = sim * lam_attn + (1 - sim) * lam
        assert torch.allclose(relabelled[i],
                              lam_i * y[i] + (1 - lam_i) * y[3 - i],
                              atol=1e-6)

    # Tiling cells: the cell share and the token share agree.
    tiled = MODELS.build(
        dict(type='MixImageClassifier',
             backbone=tiny_vit_cfg(img_size=32, out_type='cls_token'),
             head=dict(type='VisionTransformerClsHead', num_classes=K,
                       in_channels=64,
                       loss=dict(type='CrossEntropyLoss', use_soft=True)),
             train_cfg=dict(augments=dict(type='MixPro', cell_tokens=2,
                                          maskmix_prob=1., seed=SEED))))
    aug = tiled.augments[0]
    batch = aug.mix(torch.rand(3, 1, 32, 32), _one_hot([1, 2, 3]),
                    tiled.mix_context).info['batch']
    assert torch.allclose(batch.lam_area, batch.tokens.mean(1))


def test_bad_layout_and_arguments():
    head = dict(type='VisionTransformerClsHead', num_classes=K,
                in_channels=64, loss=dict(type='CrossEntropyLoss',
                                          use_soft=True))
    with pytest.raises(ValueError, match='square token grid'):
        MODELS.build(
            dict(type='MixImageClassifier',
                 backbone=tiny_vit_cfg(img_size=(28, 36)), head=head,
                 train_cfg=dict(augments=dict(type='MixPro'))))
    # A cell as large as the 7x7 grid: all or nothing in every draw.
    with pytest.raises(ValueError, match=r'cell_tokens=7 .*7x7 token grid '
                       r'\(4x4-px patches\)'):
        MODELS.build(
            dict(type='MixImageClassifier', backbone=tiny_vit_cfg(),
                 head=head,
                 train_cfg=dict(augments=dict(type='MixPro', cell_tokens=7))))
    for bad, match in ((dict(cell_tokens=0), 'cell_tokens'),
                       (dict(masks='image'), 'masks'),
                       (dict(partner='roll'), 'partner'),
                       (dict(area_lam='pixels'), 'area_lam'),
                       (dict(maskmix_prob=1.5), 'maskmix_prob'),
                       (dict(maskmix_zero='sometimes'), 'maskmix_zero'),
                       (dict(label_smoothing=1.), 'label_smoothing')):
        with pytest.raises(ValueError, match=match):
            _model(**bad)
    # The augment smooths: a smoothing head would smooth twice.
    with pytest.raises(ValueError, match='already smooths'):
        _model(head_loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1))


def test_training_step_uses_pal_labels():
    """Through the classifier: the targets the head learns from are PAL's,
    recomputed here by hand from an independent capture of the mixed
    forward, and the loss is their cross-entropy."""
    model = _model(cell_tokens=2, maskmix_prob=1.)
    model.train()
    labels = (1, 4, 8)
    samples = [DataSample().set_gt_label(k) for k in labels]
    data = model.data_preprocessor(
        dict(inputs=torch.rand(3, 1, 28, 28) * 255, data_samples=samples),
        True)
    mixes = record_mixes(model.augments[0])
    losses = model.loss(data['inputs'], data['data_samples'])
    (result, ) = mixes
    batch = result.info['batch']

    probe = build_attention_probe(model.backbone)
    with torch.no_grad(), probe.capture('cls') as record:
        logits = model.head(model.extract_feat(result.inputs))
    attn = record.attn[:, :, 0, 1:].mean(1)  # CLS row, head mean
    lam_attn = (attn * batch.tokens).sum(1) / attn.sum(1)
    probs = logits.softmax(1)
    sim = (batch.target * probs).sum(1) / (
        batch.target.norm(dim=1) * probs.norm(dim=1))
    lam = (sim * lam_attn + (1 - sim) * batch.lam_area)[:, None]
    y = _one_hot(labels)
    expected = lam * y + (1 - lam) * y[batch.partner]
    score = torch.stack([s.gt_score for s in data['data_samples']])
    assert torch.allclose(score, expected, atol=1e-6)
    assert score.min() == 0  # hard: no smoothing in PAL batches
    assert not torch.allclose(score, batch.target)  # relabelled
    ce = -(expected * logits.log_softmax(1)).sum(1).mean()
    assert losses['loss'].item() == pytest.approx(ce.item(), rel=1e-5)

    before = [p.detach().clone() for p in model.parameters()]
    log_vars = model.train_step(
        dict(inputs=torch.rand(3, 1, 28, 28) * 255,
             data_samples=[DataSample().set_gt_label(k) for k in labels]),
        OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1)))
    assert torch.isfinite(log_vars['loss'])
    assert any(not torch.equal(a, b)
               for a, b in zip(before, model.parameters()))


def test_pixel_cells_equal_official_without_the_model():
    """cell_pixels (the official Swin MASK_PATCH_SIZE): cells of that many
    pixels whatever the backbone's tokens; with pal=False no model and no
    attention are needed (the official Swin configs)."""
    aug = MixPro(cell_pixels=7, pal=False, maskmix_prob=1., seed=SEED)
    assert aug.attn_stat is None and not aug.uses_model
    images = torch.rand(5, 1, 28, 28)
    labels = [0, 3, 3, 7, 9]
    result = aug.mix(images, _one_hot(labels))  # no context
    official = _official_maskmix(images, labels, _stream(), cell_tokens=1,
                                 patch=7)  # 4x4 cells of 7 px
    assert torch.equal(result.inputs, official['mixed'])
    assert torch.allclose(result.targets, official['targets'], atol=1e-6)
    assert result.relabel is None
    with pytest.raises(ValueError, match='cell_pixels=8 must divide'):
        MixPro(cell_pixels=8, pal=False, maskmix_prob=1.).mix(
            images, _one_hot(labels))


def test_pal_on_pixel_cells_reads_each_tokens_kept_share():
    """With 14-px cells on 4-px tokens, token column 3 (pixels 12..15)
    straddles two cells: its kept share is the mean over its pixels."""
    model = _model(cell_pixels=14, maskmix_prob=1.)
    aug = model.augments[0]
    result = aug.mix(torch.rand(3, 1, 28, 28), _one_hot([1, 2, 3]),
                     model.mix_context)
    batch = result.info['batch']
    kept = batch.kept_share((7, 7)).reshape(3, 7, 7)
    cells = batch.tokens.reshape(3, 2, 2)  # the 2x2 cell grid of 14 px
    for b in range(3):
        # token (0, 0): pixels 0..3 of cell (0, 0)
        assert kept[b, 0, 0].item() == cells[b, 0, 0].item()
        # token (0, 3): pixels 12..13 in cell (0, 0), 14..15 in (0, 1)
        assert kept[b, 0, 3].item() == pytest.approx(
            (cells[b, 0, 0].item() + cells[b, 0, 1].item()) / 2)
        # token (3, 3): a quarter in each cell
        assert kept[b, 3, 3].item() == pytest.approx(
            cells[b].mean().item())
