"""Image corruptions, the Corrupt transform and CorruptionTestLoop, on real
Fashion-MNIST test images."""
import os.path as osp

import numpy as np
import pytest
import torch

from mmsmmix.datasets import FashionMNISTIdx, read_idx
from mmsmmix.evaluation.loops import insert_corruption
from mmsmmix.evaluation.robustness import (CORRUPTIONS, RANDOM_CORRUPTIONS,
                                           Corrupt, corrupt, parse_corruptions)
from tests.helpers import run_test, tiny_model

NAMES = list(CORRUPTIONS)


@pytest.fixture(scope='module')
def images(fmnist_root):
    """The first 8 real test images, uint8 (8, 28, 28)."""
    return read_idx(osp.join(fmnist_root, 't10k-images-idx3-ubyte.gz'))[:8]


def as_rgb(img):
    return np.repeat(img[..., None], 3, axis=2)


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64))**2)
    return 10 * np.log10(255.**2 / mse)


def test_the_ten_corruptions_are_registered():
    assert NAMES == [
        'gaussian_noise', 'shot_noise', 'impulse_noise', 'defocus_blur',
        'motion_blur', 'contrast', 'brightness', 'jpeg', 'pixelate', 'fog'
    ]
    assert parse_corruptions('all') == NAMES
    assert parse_corruptions('fog, jpeg,fog') == ['fog', 'jpeg']
    with pytest.raises(KeyError, match='snow'):
        parse_corruptions('jpeg,snow')


@pytest.mark.parametrize('name', NAMES)
def test_shape_dtype_range_and_seeding(images, name):
    img = images[0]
    for x in (img, img[..., None], as_rgb(img)):
        out = corrupt(x, name, 3, np.random.default_rng(0))
        assert out.shape == x.shape and out.dtype == np.uint8
        assert 0 <= out.min() and out.max() <= 255
        assert not np.array_equal(out, x)  # it does corrupt
        again = corrupt(x, name, 3, np.random.default_rng(0))
        assert np.array_equal(out, again)
        other = corrupt(x, name, 3, np.random.default_rng(1))
        if name in RANDOM_CORRUPTIONS:
            assert not np.array_equal(out, other)
        else:
            assert np.array_equal(out, other)
    # A grey image in 1 or 3 channels is corrupted alike, except where the
    # noise is drawn per value (per channel).
    grey = corrupt(img, name, 3, np.random.default_rng(0))
    rgb = corrupt(as_rgb(img), name, 3, np.random.default_rng(0))
    if name not in ('gaussian_noise', 'shot_noise', 'impulse_noise'):
        assert np.abs(rgb.astype(int) - grey[..., None]).max() <= 1


@pytest.mark.parametrize('name', NAMES)
def test_invalid_inputs(images, name):
    rng = np.random.default_rng(0)
    for severity in (0, 6, 2.5):
        with pytest.raises(ValueError, match='severity'):
            corrupt(images[0], name, severity, rng)
    with pytest.raises(ValueError, match='uint8'):
        corrupt(images[0].astype(np.float32), name, 1, rng)
    with pytest.raises(ValueError, match='uint8'):
        corrupt(np.zeros((4, 4, 2), np.uint8), name, 1, rng)


@pytest.mark.parametrize('name', [n for n in NAMES if n != 'pixelate'])
@pytest.mark.parametrize('rgb', [False, True])
def test_severity_lowers_psnr(images, name, rgb):
    """PSNR to the clean image falls strictly from severity 1 to 5 on each
    of four real images (same seed at every severity). Fog severities 3 and
    4 add the same amount of haze (ImageNet-C's 2.5) and differ only in the
    haze's roughness, so between them PSNR is flat up to the draw: allowed
    to rise by at most 0.5 dB there."""
    for img in images[:4]:
        x = as_rgb(img) if rgb else img
        values = [
            psnr(x, corrupt(x, name, s, np.random.default_rng(0)))
            for s in range(1, 6)
        ]
        for s, (lo, hi) in enumerate(zip(values, values[1:]), start=1):
            if name == 'fog' and s == 3:
                assert hi < lo + 0.5, values
            else:
                assert hi < lo, (s, values)


@pytest.mark.parametrize('rgb', [False, True])
def test_pixelate_severity_lowers_psnr_over_images(images, rgb):
    """Pixelate shrinks 28 px to 16, 14, 11, 8, 7 px: how well an image's
    edges fall on the coarser grid varies (28/14 and 28/7 are whole, 28/16
    and 28/8 are not), so a single image can lose less at a higher severity.
    Over eight images (pooled squared error) PSNR falls strictly."""
    xs = np.stack([as_rgb(i) if rgb else i for i in images])
    values = []
    for s in range(1, 6):
        out = np.stack([corrupt(x, 'pixelate', s, None) for x in xs])
        values.append(psnr(xs, out))
    assert all(hi < lo for lo, hi in zip(values, values[1:])), values


def test_corrupt_transform_is_deterministic_per_sample(fmnist_root, images):
    dataset = FashionMNISTIdx(
        data_root=fmnist_root,
        split='test',
        indices=8,
        pipeline=[dict(type='Corrupt', name='gaussian_noise', severity=2,
                       seed=5)])
    first = [dataset[i]['img'] for i in range(8)]
    assert all(np.array_equal(a, dataset[i]['img'])
               for i, a in enumerate(first))
    for i in (0, 3):
        assert np.array_equal(
            first[i],
            corrupt(images[i], 'gaussian_noise', 2,
                    np.random.default_rng([5, i])))
    # Another sample (same image content) gets other noise.
    noise = [a.astype(int) - images[i] for i, a in enumerate(first)]
    assert not np.array_equal(noise[0], noise[1])
    other_seed = Corrupt('gaussian_noise', 2, seed=6)(
        dict(img=images[0].copy(), sample_idx=0))['img']
    assert not np.array_equal(other_seed, first[0])
    with pytest.raises(KeyError, match='sample_idx'):
        Corrupt('fog', 1)(dict(img=images[0].copy()))
    with pytest.raises(KeyError, match='snow'):
        Corrupt('snow', 1)
    with pytest.raises(ValueError, match='severity'):
        Corrupt('fog', 7)


def test_insert_corruption_goes_before_pack_inputs():
    cfg = dict(dataset=dict(pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='CenterCrop', crop_size=224),
        dict(type='mmpretrain.PackInputs')
    ]))
    new = insert_corruption(cfg, 'fog', 4, 2)
    assert [t['type'] for t in new['dataset']['pipeline']] == [
        'LoadImageFromFile', 'CenterCrop', 'Corrupt', 'mmpretrain.PackInputs'
    ]
    assert new['dataset']['pipeline'][2] == dict(
        type='Corrupt', name='fog', severity=4, seed=2)
    assert len(cfg['dataset']['pipeline']) == 3  # input untouched
    with pytest.raises(ValueError, match='PackInputs'):
        insert_corruption(dict(dataset=dict(pipeline=[])), 'fog', 1, 0)


def test_corruption_loop_equals_plain_test_on_corrupted_pipeline(
        fmnist_root, tmp_path):
    """Each corruption's metrics (and per-sample predictions) are those of a
    plain test whose pipeline corrupts the images; mean is their mean."""
    torch.manual_seed(0)
    model = tiny_model()

    def run(name, test_cfg, pipeline):
        return run_test(model, fmnist_root, str(tmp_path), test_cfg, name,
                        num_images=128, pipeline=pipeline)

    pack = [dict(type='PackInputs')]
    runner, metrics, preds = run(
        'loop',
        dict(type='CorruptionTestLoop', corruptions=['contrast', 'fog'],
             severity=2, seed=3), pack)
    expected = {}
    for name in ('contrast', 'fog'):
        _, plain, plain_preds = run(
            f'plain_{name}', dict(),
            [dict(type='Corrupt', name=name, severity=2, seed=3), *pack])
        expected[name] = plain['accuracy/top1']
    # The dump holds the last corruption's predictions.
    assert torch.equal(
        torch.stack([p['pred_score'] for p in preds]),
        torch.stack([p['pred_score'] for p in plain_preds]))
    assert metrics == {
        'contrast/accuracy/top1': expected['contrast'],
        'fog/accuracy/top1': expected['fog'],
        'mean/accuracy/top1': pytest.approx(
            (expected['contrast'] + expected['fog']) / 2),
    }
    assert runner.test_loop.results == {
        n: {'accuracy/top1': v} for n, v in expected.items()
    }
