"""Patch occlusion: the pure maths, the test loop and tools/test.py.

The loop runs through the real mmengine Runner on real Fashion-MNIST test
images with tiny untrained models; per-sample predictions are compared
through mmengine's ``DumpResults`` metric.
"""
import argparse
import json
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import save_checkpoint
from mmpretrain.registry import MODELS

from mmsmmix.evaluation.robustness import (num_dropped, occlude,
                                           occlusion_mask, patch_order)
from tests.helpers import (FMNIST_CONFIGS, FMNIST_PREPROCESSOR,
                           RUN_TEST_IMAGES, randomise_head, run_test,
                           tiny_model)
from tests.tool_process import run_tool_process

# ----------------------------------------------------------------- maths


@pytest.mark.parametrize('num_patches', [16, 49, 10])
def test_mask_drops_exactly_round_ratio_n_nested(num_patches):
    g = torch.Generator().manual_seed(0)
    order = patch_order(None, 6, num_patches, g)
    ratios = [0, 0.1, 0.25, 0.3, 0.5, 0.75, 0.9, 1]
    masks = [occlusion_mask(order, r) for r in ratios]
    for r, mask in zip(ratios, masks):
        assert mask.dtype == torch.bool and mask.shape == (6, num_patches)
        assert mask.sum(1).tolist() == [round(r * num_patches)] * 6
    for small, large in zip(masks, masks[1:]):
        assert not (small & ~large).any()  # growing ratios nest
    # Each image has its own random order.
    assert len({tuple(m.tolist()) for m in masks[4]}) > 1


def test_num_dropped_rounds_and_validates():
    assert [num_dropped(r, 16) for r in (0, .1, .25, .5, .9, 1)] == \
        [0, 2, 4, 8, 14, 16]
    with pytest.raises(ValueError, match=r'\[0, 1\]'):
        num_dropped(1.5, 16)
    with pytest.raises(ValueError, match=r'\[0, 1\]'):
        num_dropped(-0.1, 16)


def test_random_order_is_seeded():
    def draw(seed):
        return patch_order(None, 4, 16, torch.Generator().manual_seed(seed))

    assert torch.equal(draw(3), draw(3))
    assert not torch.equal(draw(3), draw(4))
    assert torch.equal(draw(3).sort(1).values,
                       torch.arange(16).expand(4, 16))  # permutations


def test_attention_order_drops_most_attended_first():
    # Known ranking: image 0 scores patch i by i (patch 15 highest), image 1
    # by a fixed permutation; image 2 has ties, broken in raster order.
    perm = torch.tensor([3, 7, 0, 12, 5, 9, 1, 14, 2, 8, 15, 4, 11, 6, 13,
                         10])
    scores = torch.stack([
        torch.arange(16.),
        torch.empty(16).scatter_(0, perm, torch.arange(16., 0, -1)),
        torch.tensor([1., 0, 2, 2] + [0] * 12),
    ])
    order = patch_order(scores)
    assert order[0].tolist() == list(range(15, -1, -1))
    assert order[1].tolist() == perm.tolist()
    assert order[2, :3].tolist() == [2, 3, 0]
    mask = occlusion_mask(order, 0.25)
    assert mask[0].nonzero().flatten().tolist() == [12, 13, 14, 15]
    assert sorted(mask[1].nonzero().flatten().tolist()) == \
        sorted(perm[:4].tolist())
    assert mask[2].nonzero().flatten().tolist() == [0, 1, 2, 3]


def expected_cells(size, cells, patch):
    """Pixel -> cell along one axis, written out from the documentation."""
    if patch is None:
        return [p * cells // size for p in range(size)]
    return [min(p // patch, cells - 1) for p in range(size)]


@pytest.mark.parametrize('hw,grid,patch', [
    ((28, 28), (7, 7), (4, 4)),  # ViT patch 4
    ((28, 28), (4, 4), (7, 7)),  # ViT patch 7 (the demo)
    ((30, 29), (4, 4), (7, 7)),  # patch embedding crops 2 rows, 1 column
    ((28, 28), (3, 3), None),  # --occlusion-grid 3 (cells of 10, 9, 9)
    ((10, 12), (4, 5), None),
])
def test_occlude_zeroes_exactly_the_dropped_cells(hw, grid, patch):
    h, w = hw
    images = torch.randn(3, 2, h, w) + 10  # no pixel is 0 before
    mask = occlusion_mask(
        patch_order(None, 3, grid[0] * grid[1],
                    torch.Generator().manual_seed(1)), 0.5)
    out = occlude(images, mask, grid, patch)
    assert out.shape == images.shape and images.min() > 0
    rows = expected_cells(h, grid[0], None if patch is None else patch[0])
    cols = expected_cells(w, grid[1], None if patch is None else patch[1])
    assert set(rows) == set(range(grid[0]))  # every cell has pixels
    assert set(cols) == set(range(grid[1]))
    for b in range(3):
        for y in range(h):
            for x in range(w):
                dropped = mask[b, rows[y] * grid[1] + cols[x]]
                if dropped:
                    assert (out[b, :, y, x] == 0).all()
                else:
                    assert torch.equal(out[b, :, y, x], images[b, :, y, x])


def test_occlude_checks_mask_shape():
    with pytest.raises(ValueError, match='mask must have shape'):
        occlude(torch.ones(2, 1, 8, 8), torch.zeros(2, 15, dtype=bool),
                (4, 4), (2, 2))


# ------------------------------------------------ the loop, real Runner


TINY_RESNET = dict(
    type='ResNet', depth=18, in_channels=1, stem_channels=8,
    base_channels=8)


def same_predictions(a, b):
    assert len(a) == len(b) == RUN_TEST_IMAGES
    assert [p['sample_idx'] for p in a] == [p['sample_idx'] for p in b]
    scores_a = torch.stack([p['pred_score'] for p in a])
    scores_b = torch.stack([p['pred_score'] for p in b])
    assert torch.equal(scores_a, scores_b)


@pytest.fixture(scope='module')
def vit():
    torch.manual_seed(0)
    return tiny_model()


@pytest.fixture(scope='module')
def plain_vit(vit, fmnist_root, tmp_path_factory):
    return run_test(vit, fmnist_root, str(tmp_path_factory.mktemp('plain')),
                    dict(), 'plain_vit')


@pytest.mark.parametrize('mode', ['random', 'attention'])
def test_loop_at_ratio_zero_equals_plain_test(vit, plain_vit, fmnist_root,
                                              tmp_path, mode):
    _, plain, plain_preds = plain_vit
    runner, metrics, preds = run_test(
        vit, fmnist_root, str(tmp_path),
        dict(type='OcclusionTestLoop', ratios=[0], mode=mode),
        f'occ0_{mode}')
    assert metrics == {
        'occlusion_0/accuracy/top1': plain['accuracy/top1']
    }
    same_predictions(preds, plain_preds)
    assert runner.test_loop.num_patches == 49


def test_loop_occludes_through_the_model(vit, plain_vit, fmnist_root,
                                         tmp_path):
    """Ratios 0.5 and 1: the last evaluator's dump (ratio 1) sees images
    that are all zero, so every prediction is the same; at 0.5 they are
    not the clean ones."""
    _, plain, plain_preds = plain_vit
    runner, metrics, preds = run_test(
        vit, fmnist_root, str(tmp_path),
        dict(type='OcclusionTestLoop', ratios=[0.5, 1.0], seed=1), 'occ1')
    assert set(metrics) == {
        'occlusion_0.5/accuracy/top1', 'occlusion_1/accuracy/top1'
    }
    assert list(runner.test_loop.results) == [0.5, 1.0]
    scores = torch.stack([p['pred_score'] for p in preds])
    assert torch.allclose(scores, scores[:1].expand_as(scores), atol=1e-6)
    plain_scores = torch.stack([p['pred_score'] for p in plain_preds])
    assert not torch.allclose(plain_scores, plain_scores[:1].expand_as(
        plain_scores), atol=1e-6)


def test_loop_attention_mode_drops_the_most_attended_patches(
        vit, fmnist_root, tmp_path):
    """Attention mode ranks by ``patch_attention_score`` of the last block:
    the loop's predictions are the model's on real batches whose
    most-attended patches (7x7 grid of 4x4 patches) are zeroed by hand."""
    from mmsmmix.models.probes import build_attention_probe
    from mmsmmix.ops import patch_attention_score
    runner, _, preds = run_test(
        vit, fmnist_root, str(tmp_path),
        dict(type='OcclusionTestLoop', ratios=[0.25], mode='attention'),
        'occ_att')
    loop = runner.test_loop
    assert loop.num_patches == 49
    expected = []
    for batch in loop.dataloader:
        data = vit.data_preprocessor(batch, False)
        inputs = data['inputs']
        with torch.no_grad():
            with build_attention_probe(vit.backbone).capture() as record:
                vit.extract_feat(inputs)
        assert record.grid == (7, 7) and record.patch_size == (4, 4)
        scores = patch_attention_score(record.attn, 'patch', 1)
        top = scores.topk(num_dropped(0.25, 49), dim=1).indices
        mask = torch.zeros(len(inputs), 49, dtype=torch.bool)
        mask.scatter_(1, top, True)
        assert torch.equal(occlusion_mask(patch_order(scores), 0.25), mask)
        # the dropped cells by hand: 4x4 pixel squares set to 0
        occluded = inputs.clone()
        for b, cell in mask.nonzero().tolist():
            row, col = divmod(cell, 7)
            occluded[b, :, 4 * row:4 * row + 4, 4 * col:4 * col + 4] = 0
        expected += loop.predict(data, occluded)
    assert len(preds) == len(expected) == RUN_TEST_IMAGES
    for pred, sample in zip(preds, expected):
        assert torch.allclose(pred['pred_score'], sample.pred_score,
                              atol=1e-6)


def test_backbone_without_probe_needs_a_grid(fmnist_root, tmp_path):
    torch.manual_seed(0)
    model = tiny_model(TINY_RESNET)
    with pytest.raises(ValueError, match='--occlusion-grid'):
        run_test(model, fmnist_root, str(tmp_path),
                 dict(type='OcclusionTestLoop', ratios=[0.5]), 'no_grid')
    with pytest.raises(ValueError, match='needs a backbone with readable'):
        run_test(model, fmnist_root, str(tmp_path),
                 dict(type='OcclusionTestLoop', ratios=[0.5], grid=4,
                      mode='attention'), 'no_att')
    _, plain, plain_preds = run_test(model, fmnist_root, str(tmp_path),
                                     dict(), 'resnet_plain')
    runner, metrics, preds = run_test(
        model, fmnist_root, str(tmp_path),
        dict(type='OcclusionTestLoop', ratios=[0], grid=4), 'resnet_occ')
    assert metrics['occlusion_0/accuracy/top1'] == plain['accuracy/top1']
    same_predictions(preds, plain_preds)
    assert runner.test_loop.num_patches == 16


# ------------------------------------------------------ tools/test.py


@pytest.mark.slow
def test_tool_occlusion_end_to_end(fmnist_root, tmp_path):
    """tools/test.py --occlusion 0,0.5 on an untrained demo-sized ViT."""
    cfg = Config.fromfile(
        osp.join(FMNIST_CONFIGS, 'vit-mini-p7_nomix_1xb64_fmnist.py'))
    torch.manual_seed(0)
    model = MODELS.build(
        dict(cfg.model, data_preprocessor=FMNIST_PREPROCESSOR))
    model.init_weights()
    randomise_head(model)
    ckpt = str(tmp_path / 'untrained.pth')
    save_checkpoint({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    work_dir = tmp_path / 'work'
    proc = run_tool_process(
        'tools/test.py',
        osp.join(FMNIST_CONFIGS, 'vit-mini-p7_nomix_1xb64_fmnist.py'), ckpt,
        '--work-dir', str(work_dir), '--occlusion', '0,0.5',
        '--cfg-options', f'test_dataloader.dataset.indices={RUN_TEST_IMAGES}',
        f'test_dataloader.dataset.data_root={fmnist_root}')
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    assert re.search(r'\| 0 \| 0/16 \| [0-9.]+ \|', output), output[-2000:]
    assert re.search(r'\| 0\.5 \| 8/16 \| [0-9.]+ \|', output)
    with open(work_dir / 'occlusion.json') as f:
        report = json.load(f)
    assert report['ratios'] == [0, 0.5] and report['dropped'] == [0, 8]
    assert report['mode'] == 'random' and report['num_patches'] == 16
    logged = float(
        re.findall(r'occlusion_0/accuracy/top1: ([0-9.]+)', output)[-1])
    assert report['metrics']['0']['accuracy/top1'] == pytest.approx(logged)
    with open(work_dir / 'occlusion.png', 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'


def test_tool_rejects_bad_options(tmp_path):
    from mmsmmix.evaluation.robustness import check_robustness_args
    from mmsmmix_cli import add_robustness_args
    parser = argparse.ArgumentParser()
    parser.add_argument('--out')
    add_robustness_args(parser)
    for argv in (['--occlusion', '0,1.5'], ['--occlusion', '0', '--out',
                                            'x.pkl'],
                 ['--occlusion', '0', '--corruption', 'fog'],
                 ['--corruption', 'snow'], ['--occlusion', '0',
                                            '--occlusion-grid', '0']):
        with pytest.raises(SystemExit):
            check_robustness_args(parser, parser.parse_args(argv))
    check_robustness_args(parser, parser.parse_args(['--occlusion', '0,1']))
