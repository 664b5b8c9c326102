"""tools/visualize_mixing.py, the protocol fields it reads and its picture.

Every Fashion-MNIST method on real training images with its real model:

- each augment's ``partner`` / ``partner_share`` (and RankMixup's
  ``forwarded`` images) against an independent check of the same draw:
  the mixed pixels recomputed from them (same-place pastes and blends),
  SMMix's windows and ResizeMix's resized partner from ``info`` and
  MMPretrain's own maths, the drawn ``info`` (masks, boxes, cells,
  partners, MMPretrain's seeds replayed by hand) and the mixed labels;
- the label weights the tool returns and prints equal the targets a real
  Runner's ``train_step`` trains on for the same draw (same weights from
  a checkpoint, same images, same seeds; after relabelling);
- the PNG shows, pixel for pixel, the partner share of the draw and the
  border of the partner's pixels, and no text leaves its place;
- the tool runs end to end in a forked process (two configs), and
  ``tools/visualize_smmix.py`` still does.
"""
import copy
import functools
import os.path as osp
import re
import struct

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmpretrain.models.utils.batch_augments import CutMix, Mixup, ResizeMix
from PIL import Image

from mmsmmix.benchmarks.mixing_pairs import (draw_config, draw_mixing,
                                             load_batch, load_data,
                                             mixing_figure)
from mmsmmix.datasets.fashion_mnist import read_idx
from mmsmmix.models import build_config_model
from mmsmmix.models.augments import FMix, MixPro, RankMixup, SMMix, TransMix
from mmsmmix.models.augments.mmpretrain_adapter import MMPretrainAugment
from mmsmmix.ops import token_to_pixel_mask, window_box
from mmsmmix.utils import load_weights
from mmsmmix.visualization import (PASTE_COLOR, PASTE_LINING, mixing_layout,
                                   save_png)
from tests.helpers import FMNIST_CONFIGS, record_mixes, refused
from tests.tool_process import run_tool_process

METHODS = ('smmix', 'mixup', 'cutmix', 'mixup-cutmix', 'resizemix', 'fmix',
           'transmix', 'mixpro', 'smmix-dm', 'rankmixup')
NUM = 3  # pairs: a batch of 6 real training images
SEED = 0
# the data preprocessor's normalisation, as its float32 buffers hold it
MEAN, STD = float(np.float32(72.94)), float(np.float32(90.02))


def config_path(method: str) -> str:
    return osp.join(FMNIST_CONFIGS, f'vit-mini-p7_{method}_1xb64_fmnist.py')


@functools.lru_cache(maxsize=None)
def _parsed(method: str) -> Config:
    """A method's config file, parsed once for the module (resolving its
    ``mmpretrain::`` base reads MMPretrain's metafiles, ~0.4 s a file)."""
    return Config.fromfile(config_path(method))


def load_cfg(method: str, data_root: str) -> Config:
    """A method's config on the first 64 training images in ``data_root``
    (to build the dataset faster; the tool picks its 2N among them): a
    copy of the parsed file, which nothing here changes."""
    cfg = copy.deepcopy(_parsed(method))
    cfg.merge_from_dict({'train_dataloader.dataset.data_root': data_root,
                         'train_dataloader.dataset.indices': HEAD})
    init_default_scope('mmpretrain')
    return cfg


HEAD = 64  # training images the configs here read


@pytest.fixture(scope='module')
def head_root(fmnist_root, tmp_path_factory):
    """A data root holding the first 64 Fashion-MNIST training images and
    their labels (raw IDX files): the same images at the same indices as
    ``load_cfg`` picks from the whole training set, for the configs built
    in this process, which would otherwise decompress and index all 60,000
    for each of their ~40 datasets. The tool processes read the whole set
    (the end-to-end test compares the two)."""
    root = tmp_path_factory.mktemp('fmnist_head')
    for kind, ndim in (('images', 3), ('labels', 1)):
        stem = f'train-{kind}-idx{ndim}-ubyte'
        array = read_idx(osp.join(fmnist_root, stem + '.gz'), ndim)[:HEAD]
        header = struct.pack('>HBB', 0, 0x08, ndim) + struct.pack(
            '>' + 'I' * ndim, *array.shape)
        (root / stem).write_bytes(header + array.tobytes())
    return str(root)


# ------------------------------------------- the fields, checked alone ---
def mixed_from_fields(x, own, partner, share):
    """What a same-place paste or blend makes of the unmixed batch."""
    return (1 - share) * x[own] + share * x[partner]


def drawn_branches(model, batch, augment, wanted, draws=40):
    """Successive draws of ``augment`` (its stream moves on) until every
    branch of ``wanted`` was drawn once: branch -> draw."""
    seen = {}
    for _ in range(draws):
        draw = draw_mixing(model, batch, augment)
        branch = draw.result.info.get('branch', 'only')
        seen.setdefault(branch, draw)
        if set(wanted) <= set(seen):
            return seen
    raise AssertionError(f'{augment.name}: drew only {sorted(seen)}')


def check_common(draw, x, y):
    """Shapes and ranges, and the labels mixed by the partner share: the
    targets before relabelling are ``(1 - s) * y + s * y[partner]`` with
    ``s`` the mean share (the area of a paste, ``1 - lam`` of a blend),
    up to each method's own smoothing ``eps``."""
    result = draw.result
    b, _, h, w = x.shape
    partner, share = result.partner, result.partner_share
    assert partner.shape == (b, ) and partner.dtype == torch.long
    assert sorted(partner.tolist()) == list(range(b))  # a pairing
    assert share.shape == (b, 1, h, w) and share.dtype == torch.float32
    assert share.min() >= 0 and share.max() <= 1
    assert torch.equal(draw.inputs, x)  # the draw left the batch alone
    return partner, share


def smoothed(y, eps):
    return y * (1 - eps) + eps / y.shape[1]


def test_fields_of_every_method_match_independent_checks(head_root):
    """Every augment, every branch, on 6 real images of its real model."""
    checked = set()
    for method in METHODS:
        cfg = load_cfg(method, head_root)
        torch.manual_seed(SEED)
        model = build_config_model(cfg)
        batch, _ = load_batch(model, cfg, 2 * NUM, SEED)
        x = batch['inputs']
        y = model.batch_targets(x, batch['data_samples'])
        for augment in model.augments:
            if isinstance(augment, SMMix):
                draws = drawn_branches(model, batch, augment,
                                       ('smmix', 'mixup'))
            elif isinstance(augment, MixPro):
                draws = drawn_branches(model, batch, augment,
                                       ('maskmix', 'cutmix', 'mixup'))
            else:
                draws = {'only': draw_mixing(model, batch, augment)}
            for branch, draw in draws.items():
                check_draw(augment, branch, draw, x, y)
                checked.add((augment.name, branch))
    assert checked == {
        ('SMMix', 'smmix'), ('SMMix', 'mixup'), ('Mixup', 'only'),
        ('CutMix', 'only'), ('ResizeMix', 'only'), ('FMix', 'only'),
        ('TransMix', 'only'), ('MixPro', 'maskmix'), ('MixPro', 'cutmix'),
        ('MixPro', 'mixup'), ('RankMixup', 'only')}


def check_draw(augment, branch, draw, x, y):
    result, info = draw.result, draw.result.info
    b, _, h, w = x.shape
    own = torch.arange(b)
    if isinstance(augment, RankMixup):
        # the trained batch is clean; the ranked Mixup images say it all
        assert torch.equal(result.inputs, x)
        assert torch.equal(result.partner, own)
        assert not result.partner_share.any()
        fwd = result.forwarded
        assert torch.equal(fwd.own, own)  # one Mixup batch
        s = fwd.partner_share
        assert (s == s[:, :, :1, :1]).all()  # a blend: one share
        assert torch.allclose(
            fwd.inputs, mixed_from_fields(x, fwd.own, fwd.partner, s),
            atol=1e-5)
        lam = 1 - s[0, 0, 0, 0].item()
        differ = y.argmax(1) != y.argmax(1)[fwd.partner]
        relevance = info['relevance'][0]
        assert torch.allclose(relevance[differ],
                              torch.full_like(relevance[differ],
                                              max(lam, 1 - lam)))
        return
    partner, share = check_common(draw, x, y)
    mixed = result.inputs
    s = share.mean(dim=(1, 2, 3))[:, None]
    if isinstance(augment, SMMix) and branch == 'smmix':
        # pasted cells: the partner's max window, moved to i's min window
        region, r = info['region'], info['region_size']
        side = 4
        cell = h // side
        assert torch.equal(partner, own.flip(0))
        for i in range(b):
            top, left, bottom, right = window_box(
                region.target_windows[i], side, r)
            expect = torch.zeros(h, w)
            expect[top * cell:bottom * cell, left * cell:right * cell] = 1
            assert torch.equal(share[i, 0], expect)
            st, sl, sb, sr = window_box(region.source_windows[b - 1 - i],
                                        side, r)
            assert torch.equal(
                mixed[i, :, top * cell:bottom * cell,
                      left * cell:right * cell],
                x[b - 1 - i, :, st * cell:sb * cell, sl * cell:sr * cell])
        kept = share == 0
        assert torch.equal(mixed.expand_as(x)[kept.expand_as(x)],
                           x[kept.expand_as(x)])
        assert torch.allclose(result.targets,
                              (1 - s) * smoothed(y, 0.1) +
                              s * smoothed(y, 0.1)[partner])
        return
    if isinstance(augment, MMPretrainAugment) and \
            type(augment.augment) is ResizeMix:
        # the box holds the whole partner, resized as MMPretrain does
        for i in range(b):
            rows = share[i, 0].any(1).nonzero()[:, 0]
            cols = share[i, 0].any(0).nonzero()[:, 0]
            top, bottom = rows.min(), rows.max() + 1
            left, right = cols.min(), cols.max() + 1
            assert share[i, 0, top:bottom, left:right].eq(1).all()
            assert share[i, 0].sum() == (bottom - top) * (right - left)
            resized = F.interpolate(x[partner[i]][None],
                                    size=(int(bottom - top),
                                          int(right - left)),
                                    mode='bilinear', align_corners=False)
            assert torch.allclose(mixed[i, :, top:bottom, left:right],
                                  resized[0], atol=1e-6)
        kept = (share == 0).expand_as(x)
        assert torch.equal(mixed[kept], x[kept])
        assert torch.allclose(result.targets, (1 - s) * y + s * y[partner],
                              atol=1e-6)
        check_mmpretrain_replay(augment, info, partner, share)
        return
    # a same-place paste or blend: every pixel from the fields alone
    blend = (share > 0) & (share < 1)
    if blend.any():
        assert torch.allclose(mixed, mixed_from_fields(x, own, partner,
                                                       share), atol=1e-6)
    else:
        assert torch.equal(mixed, mixed_from_fields(x, own, partner, share))
    eps = augment.label_smoothing
    if isinstance(augment, FMix):
        # label weight: the drawn Beta lam, the area up to one pixel
        assert torch.equal(~share[0, 0].bool(), info['mask'])
        assert torch.equal(partner, info['partner'])
        assert abs(s[0].item() - (1 - info['lam'])) <= 1 / (h * w)
        assert (share == share[:1]).all()
        return
    if isinstance(augment, TransMix):
        top, bottom, left, right = info['box']
        expect = torch.zeros(h, w)
        expect[top:bottom, left:right] = 1
        assert (share == expect).all() and torch.equal(partner, own.flip(0))
        assert s[0].item() == pytest.approx(info['pasted_area'])
    elif isinstance(augment, MixPro) and branch == 'maskmix':
        batch = info['batch']
        assert torch.equal(partner, batch.partner)
        cells = batch.tokens.reshape(b, 4, 4) == 0
        assert torch.equal(share[:, 0].bool(),
                           token_to_pixel_mask(cells, (7, 7)))
        assert torch.allclose(1 - s[:, 0], batch.lam_area)
    elif isinstance(augment, (SMMix, MixPro)):  # timm's Mixup / CutMix
        assert torch.equal(partner, own.flip(0))
        assert s[0].item() == pytest.approx(1 - info['lam'], abs=1e-6)
        if branch == 'mixup':
            assert (share == 1 - info['lam']).all()
    else:
        check_mmpretrain_replay(augment, info, partner, share)
    assert torch.allclose(result.targets, smoothed(
        (1 - s) * y + s * y[partner], eps) if isinstance(augment, MixPro)
        else (1 - s) * smoothed(y, eps) + s * smoothed(y, eps)[partner],
        atol=1e-6)


def check_mmpretrain_replay(augment, info, partner, share):
    """MMPretrain's draws made by hand from the seeds in ``info`` (as in
    test_mmpretrain_adapter.py): the permutation, and lam or the box."""
    aug = augment.augment
    np.random.seed(info['seeds'][0])
    torch.manual_seed(info['seeds'][1])
    lam = np.random.beta(aug.alpha, aug.alpha)
    index = torch.randperm(len(partner))
    assert torch.equal(partner, index)
    if type(aug) is Mixup:
        assert (share == float(1 - lam)).all()
        return
    assert type(aug) in (CutMix, ResizeMix)
    if type(aug) is ResizeMix:
        lam = lam * (aug.lam_max - aug.lam_min) + aug.lam_min
    h, w = share.shape[-2:]
    cut_h, cut_w = (int(h * np.sqrt(1 - lam)), int(w * np.sqrt(1 - lam)))
    cy, cx = np.random.randint(0, h), np.random.randint(0, w)
    box = torch.zeros(h, w)
    box[max(cy - cut_h // 2, 0):min(cy + cut_h // 2, h),
        max(cx - cut_w // 2, 0):min(cx + cut_w // 2, w)] = 1
    assert (share == box).all()


# ------------------------------- training's targets, through a Runner ---
def runner_targets(method, augment_index, data_root, tmp_path,
                   checkpoint=None):
    """A real Runner's first ``train_step`` with only the augment
    ``augment_index`` of the config (so the classifier picks it) on the
    tool's images: the targets its head's loss gets, its draw, and the
    checkpoint of its weights (``checkpoint``'s, else its initial ones,
    saved)."""
    cfg = load_cfg(method, data_root)
    augments = cfg.model.train_cfg.augments
    if isinstance(augments, list):
        cfg.model.train_cfg = dict(augments=augments[augment_index])
    cfg.work_dir = str(tmp_path / f'runner_{augment_index}')
    cfg.randomness = dict(seed=SEED)
    runner = Runner.from_cfg(cfg)
    model = runner.model
    if checkpoint is None:
        model.init_weights()
        checkpoint = str(tmp_path / f'weights_{augment_index}.pth')
        torch.save(dict(state_dict=model.state_dict()), checkpoint)
    else:
        load_weights(model, checkpoint)
    data, _ = load_data(model, cfg, 2 * NUM, SEED)
    mixes = record_mixes(model.augments[0])
    targets = []
    head_loss = model.head.loss

    def spy(feats, data_samples, **kwargs):
        targets.append(torch.stack([s.gt_score for s in data_samples]))
        return head_loss(feats, data_samples, **kwargs)

    model.head.loss = spy
    optim_wrapper = runner.build_optim_wrapper(cfg.optim_wrapper)
    model.train_step(data, optim_wrapper)
    return targets[0].detach(), mixes[0], checkpoint


@pytest.fixture(scope='module')
def runner_step(head_root, tmp_path_factory):
    """``runner_step(method, augment_index)``: :func:`runner_targets` of
    that augment, computed once for the module (the tool's end-to-end test
    checks its printed weights against the same steps). Every augment of a
    config trains from the same weights, the first augment's checkpoint
    (initial weights saved by its Runner): the second Runner loads them,
    and the tool, given one checkpoint per config, draws with them."""
    root = tmp_path_factory.mktemp('runner_steps')
    steps = {}

    def step(method, augment_index):
        key = (method, augment_index)
        if key not in steps:
            checkpoint = step(method, 0)[2] if augment_index else None
            steps[key] = runner_targets(method, augment_index, head_root,
                                        root / method, checkpoint)
        return steps[key]

    return step


@pytest.fixture(scope='module')
def tool_draws(head_root, runner_step):
    """``tool_draws(method)``: what the tool draws for a config with the
    weights of its Runner steps (:func:`runner_step`), once per config."""
    drawn = {}

    def draws(method):
        if method not in drawn:
            checkpoint = runner_step(method, 0)[2]
            drawn[method] = draw_config(load_cfg(method, head_root),
                                        config_path(method), NUM, SEED,
                                        checkpoint)
        return drawn[method]

    return draws


@pytest.mark.parametrize('method, augment_index', [
    (m, k) for m in METHODS for k in range(2 if m in ('mixup-cutmix',
                                                      'transmix') else 1)])
def test_returned_weights_are_what_the_runner_trains_on(
        runner_step, tool_draws, method, augment_index):
    """Same weights, images and seeds: the tool's draw is the Runner's
    first training step, and its label weights the targets that step
    trains on (TransMix and MixPro's PAL: after relabelling)."""
    targets, trained, checkpoint = runner_step(method, augment_index)
    drawn = tool_draws(method)
    draw = drawn.draws[augment_index]
    assert draw.result.info.get('branch') == trained.info.get('branch')
    assert torch.equal(draw.result.inputs, trained.inputs)
    for field in ('partner', 'partner_share'):
        assert torch.equal(getattr(draw.result, field),
                           getattr(trained, field)), field
    assert torch.allclose(draw.targets, targets, atol=1e-6)
    assert not torch.equal(targets, draw.result.targets) or \
        draw.result.relabel is None  # relabelling moved them
    assert drawn.weights == osp.basename(checkpoint)


# --------------------------------------------------------- the picture ---
def png_of(drawn, path, columns=None):
    figure, layout = mixing_figure(drawn, title='test', columns=columns)
    save_png(figure, path)
    return np.asarray(Image.open(path).convert('RGB')), figure, layout


def panel(png, layout, block, row, col):
    y, x = layout.panel_origin(block, row, col)
    return png[y:y + layout.panel_h, x:x + layout.panel_w]


def border_of(region, t):
    """Pixels of ``region`` within ``t`` pixels (max-norm) of a pixel
    outside it in the image: a max-pool of the outside, computed here
    independently of the drawing code."""
    outside = torch.from_numpy(~region).float()[None, None]
    near = F.max_pool2d(F.pad(outside, (t, t, t, t), value=0.), 2 * t + 1,
                        stride=1)[0, 0].bool().numpy()
    return region & near


def share_from_info(draw):
    """(B, H, W) partner share from what the augment reported drawing
    (``info``), where it says it: FMix's mask, TransMix's box, SMMix's
    pasted cells, MaskMix's kept tokens, a Mixup lam; else None."""
    info, x = draw.result.info, draw.inputs
    b, _, h, w = x.shape
    if isinstance(draw.augment, FMix):
        return (~info['mask']).float().expand(b, h, w)
    if isinstance(draw.augment, TransMix):
        top, bottom, left, right = info['box']
        share = torch.zeros(b, h, w)
        share[:, top:bottom, left:right] = 1
        return share
    branch = info.get('branch')
    if branch == 'smmix':
        cells = info['region'].source_mask.reshape(b, 4, 4)
        return token_to_pixel_mask(cells, (7, 7)).float()
    if branch == 'maskmix':
        cells = info['batch'].tokens.reshape(b, 4, 4) == 0
        return token_to_pixel_mask(cells, (7, 7)).float()
    if branch == 'mixup':
        return torch.full((b, h, w), 1 - info['lam'])
    return None


@pytest.fixture(scope='module')
def every_method(head_root):
    """Every Fashion-MNIST config drawn as the tool draws it."""
    drawn = []
    for method in METHODS:
        cfg = load_cfg(method, head_root)
        drawn.append(draw_config(cfg, config_path(method), NUM, SEED))
    return drawn


def test_picture_shows_each_draws_share_and_border(every_method, tmp_path):
    """Pixel for pixel: the share panel is the draw's partner share (as
    its ``info`` reports it where it does), the mixed image is the draw's,
    outlined in green exactly on the border of the pixels from the partner
    (none for a blend), lined inside in black, the same outline on the
    attention map; the partner panel is the partner image."""
    png, figure, layout = png_of(every_method, str(tmp_path / 'all.png'))
    assert png.shape == (layout.height, layout.width, 3)
    assert layout.scale == 4 and layout.columns == 2
    k, t = layout.scale, 2
    block = reports = 0
    for drawn in every_method:
        for draw in drawn.draws:
            own, partner, mixed, share = draw.pictured()
            reported = share_from_info(draw)
            reports += reported is not None
            for row, r in enumerate(draw.rows(NUM)):
                s = share[r, 0].numpy()
                if reported is not None:  # the draw's own report
                    assert np.allclose(s, reported[r].numpy(), atol=1e-7)
                up = s.repeat(k, 0).repeat(k, 1)
                shown = panel(png, layout, block, row, 3)
                assert (shown == np.rint(255 * up)[..., None]).all()
                region = up > 0
                border = border_of(region, t)
                lining = border_of(region, t + 1) & ~border
                shown = panel(png, layout, block, row, 2)
                green = (shown == PASTE_COLOR).all(-1)
                assert np.array_equal(green, border)
                assert (shown[lining] == PASTE_LINING).all()
                if 0 < s.min() == s.max() < 1:
                    assert not green.any()  # a blend has no border
                if draw.attention is not None:
                    shown = panel(png, layout, block, row, 4)
                    assert np.array_equal(
                        (shown == PASTE_COLOR).all(-1), border)
                    assert (shown[lining] == PASTE_LINING).all()
                # the pictures: mixed image outside the border, partner
                for col, images, idx in ((2, mixed, r),
                                         (1, draw.inputs, partner[r]),
                                         (0, draw.inputs, own[r])):
                    shown = panel(png, layout, block, row, col)
                    gray = shown[..., 0].astype(np.float64)
                    x = images[idx, 0].double().numpy() * STD + MEAN
                    x = np.clip(np.rint(x), 0, 255).repeat(k, 0).repeat(k, 1)
                    keep = ~(border | lining) if col == 2 else \
                        np.ones_like(green)
                    assert np.array_equal(gray[keep], x[keep])
            block += 1
    assert block == len(layout.rows) == 12
    assert reports >= 4  # SMMix (twice), FMix, TransMix, MaskMix here


def test_no_text_leaves_its_place(every_method, tmp_path):
    """Every text lies inside the figure; row notes inside their text
    cell, titles within their block column, nothing over a panel."""
    _, figure, layout = png_of(every_method, str(tmp_path / 'all.png'))
    renderer = figure.canvas.get_renderer()
    height = layout.height
    for text in figure.texts:
        box = text.get_window_extent(renderer)
        top, bottom = height - box.y1, height - box.y0
        assert box.x0 >= 0 and box.x1 <= layout.width, text.get_text()
        assert top >= 0 and bottom <= height, text.get_text()
    for b in range(len(layout.rows)):
        y, x = layout.block_origin(b)
        for text in figure.texts:
            box = text.get_window_extent(renderer)
            top = height - box.y1
            if x - 1 <= box.x0 < x + layout.block_w and \
                    abs(top - y) < 30:  # the block's titles
                assert box.x1 <= x + layout.block_w, text.get_text()
        for row in range(layout.rows[b]):
            ty, tx = layout.panel_origin(b, row, 5)
            notes = [t for t in figure.texts
                     if abs(t.get_window_extent(renderer).x0 - tx) < 4 and
                     abs(height - t.get_window_extent(renderer).y1 - ty) < 8]
            assert len(notes) == 1
            box = notes[0].get_window_extent(renderer)
            assert box.x1 <= tx + layout.text_w
            assert height - box.y0 <= ty + layout.panel_h + layout.gap


# --------------------------------------------------- the tools, forked ---
def parse_printed(output):
    """``{(block title, i): (j, {class: weight})}`` of the tool's lines."""
    printed, title = {}, None
    for line in output.splitlines():
        if not line.startswith(' '):
            title = line
            continue
        match = re.match(r'  i=(\d+) j=(\d+) .*; trains on (.*)$', line)
        if match:
            weights = dict(
                (name, float(w)) for name, w in re.findall(
                    r'([A-Za-z][\w/ -]*?) (\d\.\d{4})(?:,|$)',
                    match.group(3)) if 'other' not in name)
            printed[title, int(match.group(1))] = (int(match.group(2)),
                                                   weights)
    return printed


@pytest.mark.slow  # a tool process
def test_tool_end_to_end_on_two_configs(fmnist_root, tmp_path, runner_step):
    """TransMix's config (Mixup 0.2 / TransMix 0.8, relabelled) and
    MixPro's (PAL) with their Runner-step weights: a PNG of three blocks,
    the printed label weights those of the Runner's steps."""
    expected, checkpoints = {}, []
    for method, index in (('transmix', 0), ('transmix', 1), ('mixpro', 0)):
        targets, _, checkpoint = runner_step(method, index)
        expected[method, index] = targets
        if index == 0:
            checkpoints.append(checkpoint)
    out = str(tmp_path / 'two.png')
    proc = run_tool_process(
        'tools/visualize_mixing.py', config_path('transmix'),
        config_path('mixpro'), '--checkpoint', *checkpoints, '--num',
        str(NUM), '--out', out, '--cfg-options',
        f'train_dataloader.dataset.data_root={fmnist_root}',
        'train_dataloader.dataset.indices=64')
    assert proc.returncode == 0, proc.stderr[-3000:]
    output = proc.stdout
    assert output.strip().splitlines()[-1] == out
    png = np.asarray(Image.open(out).convert('RGB'))
    layout = mixing_layout([NUM] * 3, 28, 28)
    assert png.shape[0] == layout.height and png.shape[1] >= layout.width
    printed = parse_printed(output)
    classes = ('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
               'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot')
    blocks = {}
    for (title, i), (j, weights) in printed.items():
        blocks.setdefault(title, []).append(i)
        method = 'transmix' if 'transmix' in title else 'mixpro'
        index = 0 if title.startswith('Mixup') else (
            1 if method == 'transmix' else 0)
        targets = expected[method, index][i]
        assert weights, title
        for name, weight in weights.items():
            assert weight == pytest.approx(
                targets[classes.index(name)].item(), abs=5e-5), (title, i)
    assert len(blocks) == 3 and all(len(v) == NUM for v in blocks.values())
    assert any(t.startswith('TransMix') and 'weights_0.pth' in t
               for t in blocks)


@pytest.mark.slow  # a tool process
def test_visualize_smmix_still_works(fmnist_root, tmp_path):
    """The SMMix picture, from a forked process, with its own options."""
    out = str(tmp_path / 'smmix.png')
    proc = run_tool_process(
        'tools/visualize_smmix.py', config_path('smmix'), '--num', '2',
        '--region-size', '2', '--out', out, '--cfg-options',
        f'train_dataloader.dataset.data_root={fmnist_root}')
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == out
    assert Image.open(out).size[0] > 600


@pytest.mark.slow  # a tool process
def test_tool_refuses_a_model_that_mixes_nothing(fmnist_root, tmp_path):
    proc = run_tool_process(
        'tools/visualize_mixing.py', config_path('nomix'), '--out',
        str(tmp_path / 'x.png'), '--cfg-options',
        f'train_dataloader.dataset.data_root={fmnist_root}')
    assert proc.returncode == 2, proc.stderr[-3000:]
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith(
        f"tools/visualize_mixing.py: {config_path('nomix')}: "), line
    assert line.endswith('mixes nothing in training (draws need a '
                         'MixImageClassifier with model.train_cfg.augments)')
    assert 'Traceback' not in proc.stderr
    assert not osp.exists(tmp_path / 'x.png')


def test_tool_refuses_bad_arguments_first(tmp_path, capsys):
    """Argument mistakes (argparse's exit 2) and a missing config (one
    line, exit 2) before any config is drawn."""
    tool = 'tools/visualize_mixing.py'
    out = str(tmp_path / 'x.png')
    code, err = refused(tool, config_path('smmix'), '--num', '0', '--out',
                        out, capsys=capsys)
    assert code == 2 and '--num must be >= 1' in err
    code, err = refused(tool, config_path('smmix'), '--checkpoint', 'a.pth',
                        'b.pth', '--out', out, capsys=capsys)
    assert code == 2 and '--checkpoint: 2 checkpoints for 1 configs' in err
    code, err = refused(tool, config_path('smmix'), 'nowhere.py', '--out',
                        out, capsys=capsys)
    assert code == 2 and err.strip() == (
        f"{tool}: config file 'nowhere.py' not found (looked for "
        f"{osp.abspath('nowhere.py')})")
    missing = tmp_path / 'epoch_9.pth'  # the second config's
    code, err = refused(tool, config_path('smmix'), config_path('cutmix'),
                        '--checkpoint', 'none', str(missing), '--out', out,
                        capsys=capsys)
    assert code == 2 and err.strip() == (
        f'{tool}: checkpoint {missing} not found (looked for {missing})')
    assert not osp.exists(out)
