"""tools/visualize_smmix.py and the pure drawing helpers it uses.

The pure helper is checked pixel by pixel on hand-made inputs (constant
grays, a score map with known min/max windows): the outline colours must lie
exactly on the border of the expected window cells. The tool runs in process
(``main(argv)``) on tiny models: real Fashion-MNIST, image files through an
RGB loading pipeline, and a plain ImageClassifier; its PNGs are checked for
their size and for the consistency of what they show (the pasted box of the
mixed image holds the partner's source window, the rest is the target).
"""
import importlib.util
import os.path as osp

import numpy as np
import pytest
import torch
from PIL import Image

from mmsmmix.ops import max_min_region_mix, window_box
from mmsmmix.visualization import (DST_COLOR, SRC_COLOR, grid_layout, save_png,
                                   smmix_grid_figure, to_display)
from tests.helpers import FMNIST_CONFIGS, REPO_ROOT

SMMIX_CONFIG = osp.join(FMNIST_CONFIGS, 'vit-mini-p7_smmix_1xb64_fmnist.py')
NOMIX_CONFIG = osp.join(FMNIST_CONFIGS, 'vit-mini-p7_nomix_1xb64_fmnist.py')
DEIT_CONFIG = osp.join(REPO_ROOT, 'configs', 'smmix',
                       'deit-tiny_smmix_4xb256_in1k.py')


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'visualize_smmix', osp.join(REPO_ROOT, 'tools', 'visualize_smmix.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_png(path):
    return np.asarray(Image.open(path).convert('RGB'))


def panel(png, layout, row, col):
    y, x = layout.panel_origin(row, col)
    return png[y:y + layout.panel_h, x:x + layout.panel_w]


def ring(shape, box, thickness):
    """Bool mask of the inner border of ``box`` (pixels, end exclusive)."""
    top, left, bottom, right = box
    mask = np.zeros(shape, bool)
    mask[top:bottom, left:right] = True
    mask[top + thickness:bottom - thickness,
         left + thickness:right - thickness] = False
    return mask


def is_color(img, color):
    return (img == np.asarray(color, np.uint8)).all(axis=-1)


def drawn_box(img, color):
    """Pixel box (top, left, bottom, right) spanned by one colour."""
    ys, xs = np.nonzero(is_color(img, color))
    assert ys.size, f'no pixel of colour {color}'
    return ys.min(), xs.min(), ys.max() + 1, xs.max() + 1


# ---------------------------------------------------------------- pure ---
def test_outlines_lie_on_the_border_of_the_window_cells(tmp_path):
    """S=4, r=2, 7-px cells drawn 8x: target gray 60 (min window at cells
    rows 2-3, cols 0-1), partner gray 200 (max window at rows 0-1, cols
    1-2). Outlines must cover exactly the 2-px inner border of those cells
    and nothing else in the PNG; the pasted box holds the partner's gray."""
    images = torch.stack(
        [torch.full((1, 28, 28), 60.),
         torch.full((1, 28, 28), 200.)])
    scores = torch.zeros(2, 4, 4)
    scores[0, 2:4, 0:2] = -1.     # target 0: least attended window
    scores[1, 0:2, 1:3] = 5.      # partner 1: most attended window
    region = max_min_region_mix(images, scores, 2)
    mixed, source_mask, lam = region.mixed, region.source_mask, region.lam
    dst, src = region.target_windows, region.source_windows
    assert dst[0] == 2 * 3 + 0 and src[1] == 0 * 3 + 1  # (top, left) rows
    shown, shown_mixed = to_display(images), to_display(mixed)
    fig = smmix_grid_figure(shown[:1], shown[1:], shown_mixed[:1],
                            scores[:1].numpy(), [window_box(dst[0], 4, 2)],
                            [window_box(src[1], 4, 2)], 2, lam,
                            title='known windows')
    png = read_png(save_png(fig, str(tmp_path / 'grid.png')))

    layout = grid_layout(1, 28, 28)
    assert png.shape == (layout.height, layout.width, 3)
    assert layout.scale == 8
    cell = 7 * 8
    dst_box = (2 * cell, 0, 4 * cell, 2 * cell)
    src_box = (0, 1 * cell, 2 * cell, 3 * cell)
    shape = (layout.panel_h, layout.panel_w)
    for col, color, box in [(1, DST_COLOR, dst_box), (2, DST_COLOR, dst_box),
                            (3, SRC_COLOR, src_box), (4, SRC_COLOR, dst_box)]:
        assert np.array_equal(
            is_color(panel(png, layout, 0, col), color), ring(shape, box, 2))
    # nowhere else in the figure
    assert is_color(png, DST_COLOR).sum() == 2 * ring(shape, dst_box, 2).sum()
    assert is_color(png, SRC_COLOR).sum() == 2 * ring(shape, dst_box, 2).sum()
    # the pictures themselves: target 60 everywhere, mixed 200 in the box
    assert (panel(png, layout, 0, 0) == 60).all()
    mixed_panel = panel(png, layout, 0, 4)[..., 0]
    inside = np.zeros(shape, bool)
    inside[dst_box[0]:dst_box[2], dst_box[1]:dst_box[3]] = True
    assert (mixed_panel[inside & ~ring(shape, dst_box, 2)] == 200).all()
    assert (mixed_panel[~inside] == 60).all()
    # the drawn box is the mask max_min_region_mix returned
    mask = source_mask[0].reshape(4, 4).repeat_interleave(cell, 0)
    assert np.array_equal(mask.repeat_interleave(cell, 1).numpy(), inside)


def test_to_display_gray_and_rgb():
    """De-normalisation with the preprocessor's mean/std: one channel is
    repeated to gray RGB, three BGR channels are flipped to RGB."""
    gray = torch.tensor([[[[-1., 0.], [1., 9.]]]])  # mean 100, std 50
    out = to_display(gray, [100.], [50.])
    assert out.shape == (1, 2, 2, 3)
    assert out[0, :, :, 0].tolist() == [[50, 100], [150, 255]]
    assert (out[..., 0] == out[..., 2]).all()
    bgr = torch.stack([torch.full((2, 2), v) for v in (0., 1., 2.)])[None]
    mean, std = [10., 20., 30.], [1., 2., 4.]
    assert to_display(bgr, mean, std, bgr=True)[0, 0, 0].tolist() == \
        [38, 22, 10]
    assert to_display(bgr, mean, std)[0, 0, 0].tolist() == [10, 22, 38]


# ---------------------------------------------------------------- tool ---
def full_ring(img, box, color, thickness=2):
    """Whether the whole inner border of ``box`` has ``color``."""
    return is_color(img, color)[ring(img.shape[:2], box, thickness)].all()


def check_pairs(png, layout, rows, side):
    """What each row shows agrees with itself: the min window drawn on the
    score map (whose colours can never be the outline's) is outlined on the
    target and is the pasted box of the mixed image; outside it the mixed
    image is the target, inside it the partner's outlined max window.
    Outlines are found as complete rings, as a colour can also occur in the
    images themselves."""
    cell = layout.panel_h // side
    t = 2  # outline thickness
    for row in range(rows):
        target, _, with_dst, partner, mixed = (
            panel(png, layout, row, col) for col in range(5))
        dst = drawn_box(panel(png, layout, row, 1), DST_COLOR)
        size = dst[2] - dst[0]
        assert size == dst[3] - dst[1] and size % cell == 0
        assert dst[0] % cell == 0 and dst[1] % cell == 0
        assert full_ring(with_dst, dst, DST_COLOR)
        assert full_ring(mixed, dst, SRC_COLOR)
        srcs = [(y, x, y + size, x + size)
                for y in range(0, layout.panel_h - size + 1, cell)
                for x in range(0, layout.panel_w - size + 1, cell)
                if full_ring(partner, (y, x, y + size, x + size), SRC_COLOR)]
        assert len(srcs) == 1, srcs
        src = srcs[0]
        outside = np.ones(target.shape[:2], bool)
        outside[dst[0]:dst[2], dst[1]:dst[3]] = False
        assert np.array_equal(mixed[outside], target[outside])
        assert np.array_equal(with_dst[outside], target[outside])
        pasted = mixed[dst[0] + t:dst[2] - t, dst[1] + t:dst[3] - t]
        source = partner[src[0] + t:src[2] - t, src[1] + t:src[3] - t]
        assert np.array_equal(pasted, source)
    return size // cell


def test_tool_on_fashion_mnist_tiny_vit(fmnist_root, tmp_path, capsys):
    """A 1-layer ViT inheriting the Fashion-MNIST SMMix config, untrained,
    on 8 real training images: 2 rows of 28 px drawn 8x, r=3 of 4."""
    config = tmp_path / 'tiny_smmix.py'
    config.write_text(
        f"_base_ = '{SMMIX_CONFIG}'\n"
        'model = dict(backbone=dict(arch=dict(embed_dims=16, num_layers=1,'
        ' num_heads=2, feedforward_channels=32)),'
        ' head=dict(in_channels=16))\n')
    out = str(tmp_path / 'pairs.png')
    pairs = load_tool().main([
        str(config), '--num', '2', '--region-size', '3', '--out', out,
        '--cfg-options', 'train_dataloader.dataset.indices=8',
        f'train_dataloader.dataset.data_root={fmnist_root}'
    ])
    assert pairs.region_size == 3
    assert capsys.readouterr().out.strip().endswith(out)
    png = read_png(out)
    layout = grid_layout(2, 28, 28)
    assert png.shape == (layout.height, layout.width, 3)
    assert check_pairs(png, layout, 2, side=4) == 3  # --region-size 3
    target = panel(png, layout, 0, 0)
    assert (target[..., 0] == target[..., 2]).all()  # grayscale shown gray


def write_images(folder, count, size, channels):
    rng = np.random.default_rng(0)
    folder.mkdir()
    for k in range(count):
        shape = (size, size, 3) if channels == 3 else (size, size)
        img = rng.integers(0, 256, shape, dtype=np.uint8)
        Image.fromarray(img).save(folder / f'img{k}.png')
    return str(folder)


def test_tool_images_option_rgb_pipeline(tmp_path):
    """--images through a DeiT-style RGB pipeline (LoadImageFromFile,
    RandomResizedCrop, RandAugment): a tiny 64-px ViT with 16-px patches
    inheriting the ImageNet SMMix config, whose dataset is absent."""
    config = tmp_path / 'tiny_deit.py'
    config.write_text(
        f"_base_ = '{DEIT_CONFIG}'\n"
        'model = dict(backbone=dict(arch=dict(embed_dims=16, num_layers=1,'
        ' num_heads=2, feedforward_channels=32, _delete_=True), img_size=64),'
        ' head=dict(in_channels=16, num_classes=10))\n'
        'train_dataloader = dict(dataset=dict(pipeline=['
        "dict(type='LoadImageFromFile'),"
        "dict(type='RandomResizedCrop', scale=64, backend='pillow'),"
        "dict(type='RandAugment', policies='timm_increasing',"
        ' num_policies=2, total_level=10, magnitude_level=9),'
        "dict(type='PackInputs')]))\n")
    images = write_images(tmp_path / 'imgs', 2, 80, 3)
    out = str(tmp_path / 'rgb.png')
    pairs = load_tool().main(
        [str(config), '--num', '1', '--images', images, '--out', out])
    png = read_png(out)
    layout = grid_layout(1, 64, 64)
    assert layout.scale == 3
    assert png.shape == (layout.height, layout.width, 3)
    assert pairs.sizes == [1, 2, 3] and pairs.side == 4
    assert check_pairs(png, layout, 1, side=4) == pairs.region_size
    target = panel(png, layout, 0, 0)
    assert not (target[..., 0] == target[..., 2]).all()  # colour kept


def test_tool_plain_classifier_and_gray_files(tmp_path):
    """A plain ImageClassifier (no SMMix in its config) with a probed ViT
    backbone, on grayscale image files through a pipeline without a loader:
    the SMMix defaults are used (r from 1..3 on the 4x4 grid)."""
    images = write_images(tmp_path / 'gray', 4, 28, 1)
    out = str(tmp_path / 'plain.png')
    pairs = load_tool().main([NOMIX_CONFIG, '--num', '2', '--images',
                              images, '--seed', '1', '--out', out])
    png = read_png(out)
    layout = grid_layout(2, 28, 28)
    assert png.shape == (layout.height, layout.width, 3)
    assert pairs.sizes == [1, 2, 3]
    assert check_pairs(png, layout, 2, side=4) == pairs.region_size


def refusal(argv, capsys) -> str:
    """The one line the tool's ``main(argv)`` refuses with (exit 2)."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        load_tool().main(argv)
    assert exit_.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith('tools/visualize_smmix.py: '), lines
    return lines[0]


def test_tool_rejects_a_backbone_without_attention(tmp_path, capsys):
    config = tmp_path / 'lenet.py'
    config.write_text(
        f"_base_ = '{NOMIX_CONFIG}'\n"
        "model = dict(_delete_=True, type='ImageClassifier',"
        " backbone=dict(type='LeNet5', num_classes=10))\n")
    line = refusal([str(config), '--out', str(tmp_path / 'x.png')], capsys)
    assert f'{config}: this model cannot be drawn with SMMix: ' in line
    assert 'LeNet5 has no readable attention' in line


def test_tool_rejects_a_region_size_training_never_draws(
        fmnist_root, tmp_path, capsys):
    out = str(tmp_path / 'never.png')
    line = refusal([
        SMMIX_CONFIG, '--num', '1', '--region-size', '4', '--out', out,
        '--cfg-options', 'train_dataloader.dataset.indices=2',
        f'train_dataloader.dataset.data_root={fmnist_root}'
    ], capsys)
    assert 'draws r from [1, 2, 3]' in line
    assert not osp.exists(out)


def test_tool_rejects_a_missing_config_and_bad_num(tmp_path, capsys):
    out = str(tmp_path / 'x.png')
    line = refusal(['nowhere.py', '--out', out], capsys)
    assert line == ("tools/visualize_smmix.py: config file 'nowhere.py' not "
                    f"found (looked for {osp.abspath('nowhere.py')})")
    with pytest.raises(SystemExit) as exit_:
        load_tool().main([SMMIX_CONFIG, '--num', '0', '--out', out])
    assert exit_.value.code == 2
    assert '--num must be >= 1' in capsys.readouterr().err
    assert not osp.exists(out)
