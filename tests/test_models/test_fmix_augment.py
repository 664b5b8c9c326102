"""The FMix batch augment: official steps on a replayed stream, the legacy
switches equal to the earlier algorithm, per-image area and label weight,
odd batches, reproducible draws, argument checks, registry."""
import math
import zlib

import numpy as np
import pytest
import torch
from mmpretrain.registry import BATCH_AUGMENTS

import mmsmmix  # noqa: F401
from mmsmmix.models.augments import FMix

LEGACY = dict(spectrum='full', label_weight='area', partner='flip')


def _stream(seed):
    """The generator FMix's ``SyncedRandom(seed, stream='FMix')`` uses."""
    return np.random.default_rng([seed, zlib.crc32('FMix'.encode())])


def _constant_images(batch, h=28, w=20):
    """Image i is the constant i + 1, so every pixel names its source."""
    return torch.arange(1, batch + 1).float().view(batch, 1, 1, 1).expand(
        batch, 3, h, w).clone()


def _official_noise_by_hand(rng, h, w, decay):
    """The official ``make_low_freq_image``, with its normals drawn from
    ``rng``: frequency rows 0 and 1 become the real and imaginary parts."""
    wf = w // 2 + 2 if w % 2 else w // 2 + 1
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.fftfreq(w)[:wf][None, :]
    scale = 1. / np.maximum(np.sqrt(fx * fx + fy * fy), 1. / max(w, h))**decay
    coef = scale[..., None] * rng.standard_normal((h, wf, 2))
    image = np.real(
        np.fft.irfftn(coef[0] + 1j * coef[1], (h, w), axes=(-2, -1)))
    image = image - image.min()
    return image / image.max()


def _official_batch_by_hand(rng, images, score, alpha, decay):
    """One official FMix step (``sample_mask`` + the torch wrapper) on the
    replayed stream: lam, normals, coin, permutation."""
    h, w = images.shape[-2:]
    lam = float(rng.beta(alpha, alpha))
    noise = _official_noise_by_hand(rng, h, w, decay)
    num = math.ceil(lam * h * w) if rng.random() > 0.5 else math.floor(
        lam * h * w)
    mask = np.zeros(h * w)
    mask[noise.reshape(-1).argsort()[::-1][:num]] = 1
    mask = torch.from_numpy(mask.reshape(1, h, w)).float()
    index = torch.from_numpy(rng.permutation(images.size(0)))
    mixed = mask * images + (1 - mask) * images[index]
    label = lam * score + (1 - lam) * score[index]
    return mixed, label, mask[0].bool(), lam, index


def _legacy_batch_by_hand(rng, images, score, alpha, decay):
    """The earlier FMix of this package, step by step: full spectrum,
    round(lam * H * W) pixels (ties in raster order), label weight = area,
    batch reversed."""
    h, w = images.shape[-2:]
    area = int(round(float(rng.beta(alpha, alpha)) * h * w))
    freqs = np.sqrt(np.fft.rfftfreq(w)[None, :]**2 +
                    np.fft.fftfreq(h)[:, None]**2)
    scale = np.maximum(freqs, 1. / max(h, w))**-decay
    real, imag = rng.standard_normal((2, *freqs.shape))
    noise = np.fft.irfft2(scale * (real + 1j * imag), s=(h, w))
    noise -= noise.min()
    noise = noise / max(noise.max(), 1e-12)
    keep = np.zeros(h * w, dtype=bool)
    keep[np.argsort(-noise, axis=None, kind='stable')[:area]] = True
    mask = torch.from_numpy(keep.reshape(h, w))
    mixed = torch.where(mask, images, images.flip(0))
    lam = area / (h * w)
    score = score.float()
    return mixed, lam * score + (1 - lam) * score.flip(0), mask


@pytest.mark.parametrize('h, w', [(28, 20), (15, 21)])
def test_official_mode_equals_hand_computation(h, w):
    aug = FMix(alpha=1.0, decay_power=3.0, seed=11)
    rng = _stream(11)
    batch = 8
    for step in range(3):  # the stream carries on between batches
        images = torch.randn(batch, 3, h, w, generator=torch.Generator(
        ).manual_seed(step))
        score = torch.eye(batch)
        result = aug.mix(images, score)
        mixed, label, mask = result.inputs, result.targets, result.info['mask']
        ref_mixed, ref_label, ref_mask, lam, index = _official_batch_by_hand(
            rng, images, score, 1.0, 3.0)
        assert torch.equal(mask, ref_mask)
        assert torch.equal(mixed, ref_mixed)
        assert torch.equal(label, ref_label)
        # The label weight is the drawn lam, not the mask's area share.
        i = int(torch.nonzero(index != torch.arange(batch))[0])
        assert label[i, i].item() == pytest.approx(lam, abs=1e-6)
        assert abs(ref_mask.sum().item() - lam * h * w) < 1
        # Every mask row keeps one stretch (circularly).
        changes = (ref_mask != ref_mask.roll(1, dims=1)).sum(1)
        assert changes.max().item() <= 2


def test_legacy_switches_equal_the_earlier_algorithm():
    aug = FMix(alpha=0.7, decay_power=2.5, seed=5, **LEGACY)
    rng = _stream(5)
    for step, (batch, h, w) in enumerate([(4, 28, 20), (5, 17, 23),
                                          (4, 28, 20)]):
        images = torch.randn(batch, 3, h, w, generator=torch.Generator(
        ).manual_seed(step))
        score = torch.rand(batch, 6)
        result = aug.mix(images, score)
        mixed, label, mask = result.inputs, result.targets, result.info['mask']
        ref_mixed, ref_label, ref_mask = _legacy_batch_by_hand(
            rng, images, score, 0.7, 2.5)
        assert torch.equal(mask, ref_mask)
        assert torch.equal(mixed, ref_mixed)
        assert torch.equal(label, ref_label)


def test_each_default_differs_from_its_legacy_switch():
    images = _constant_images(8)
    score = torch.eye(8)
    default = FMix(seed=2)
    result = default.mix(images, score)
    mixed, label, default_mask = (result.inputs, result.targets,
                                  result.info['mask'])
    assert repr(default) == ("FMix(alpha=1.0, decay_power=3.0, "
                             "spectrum='official', label_weight='beta', "
                             "partner='randperm')")
    lam = _stream(2).beta(1.0, 1.0)
    # label_weight: the default weights labels by the drawn Beta value,
    # 'area' by the mask's area share (same draws otherwise).
    area_mode = FMix(seed=2, label_weight='area')
    result = area_mode.mix(images, score)
    area_label, area_mask = result.targets, result.info['mask']
    area = area_mask.sum().item()
    assert area == int(round(lam * 28 * 20))
    assert torch.allclose(label.sum(1), torch.ones(8))
    weights = label.max(1).values  # images that met another image
    assert weights.min().item() == pytest.approx(max(lam, 1 - lam), abs=1e-6)
    assert area_label.max(1).values.min().item() == pytest.approx(
        max(area, 560 - area) / 560, abs=1e-6)
    assert abs(lam - area / 560) > 1e-6
    # spectrum: official masks cut each row at most twice; the full
    # spectrum makes different, 2-D masks from the same seed.
    full = FMix(seed=2, spectrum='full')
    full_mask = full.mix(images, score).info['mask']
    assert not torch.equal(full_mask, default_mask)
    for mask in (default_mask, area_mask):
        assert (mask != mask.roll(1, dims=1)).sum(1).max().item() <= 2
    # partner: the default draws a permutation, 'flip' reverses the batch.
    index = (mixed[:, 0] * (~default_mask)).amax((1, 2)) - 1
    assert not torch.equal(index.long(), torch.arange(7, -1, -1))
    flip = FMix(seed=2, partner='flip')
    result = flip.mix(images, score)
    flip_mixed, flip_mask = result.inputs, result.info['mask']
    assert torch.equal(flip_mask, default_mask)
    flip_index = (flip_mixed[:, 0] * (~flip_mask)).amax((1, 2)) - 1
    assert torch.equal(flip_index.long(), torch.arange(7, -1, -1))


@pytest.mark.parametrize('batch', [4, 5])
@pytest.mark.parametrize('partner', ['flip', 'randperm'])
def test_area_equals_label_weight_per_image(batch, partner):
    aug = FMix(alpha=1.0, seed=3, label_weight='area', partner=partner)
    images = _constant_images(batch)
    score = torch.eye(batch)
    result = aug.mix(images, score)
    mixed, mixed_score, mask = result.inputs, result.targets, result.info[
        'mask']
    assert result.info['lam'] == mask.sum().item() / mask.numel()
    own = (mixed[:, 0] == images[:, 0]).flatten(1).sum(1).float()
    area = mask.sum().item()
    # Each pixel outside the mask names the partner.
    partners = (mixed[:, 0] * (~mask)).amax((1, 2)).long() - 1
    if partner == 'flip':
        assert torch.equal(partners, torch.arange(batch - 1, -1, -1))
    for i in range(batch):
        j = partners[i].item()
        if j == i:  # an image that meets itself is unchanged
            assert torch.equal(mixed[i], images[i])
            assert torch.allclose(mixed_score[i], score[i])
            continue
        assert own[i].item() == area  # exactly the mask's pixels
        lam = mixed_score[i, i].item()
        assert lam == pytest.approx(area / (28 * 20), abs=1e-6)
        assert mixed_score[i, j].item() == pytest.approx(1 - lam)
    # Every channel uses the same mask.
    assert torch.equal(mixed[:, 0], mixed[:, 2])


def test_same_seed_same_masks_and_registry():
    a = BATCH_AUGMENTS.build(dict(type='FMix', alpha=0.5, seed=7))
    b = FMix(alpha=0.5, seed=7)
    images = torch.randn(4, 1, 16, 16)
    for _ in range(3):
        assert torch.equal(a(images, torch.eye(4))[0],
                           b(images, torch.eye(4))[0])
    assert 'alpha=0.5' in repr(a)
    c = BATCH_AUGMENTS.build(dict(type='FMix', seed=7, **LEGACY))
    assert (c.spectrum, c.label_weight, c.partner) == ('full', 'area', 'flip')
    assert "spectrum='full', label_weight='area', partner='flip'" in repr(c)


def test_arguments_are_checked():
    with pytest.raises(ValueError, match='alpha must be finite'):
        FMix(alpha=float('nan'))
    with pytest.raises(ValueError, match='decay_power'):
        FMix(decay_power=0)
    with pytest.raises(ValueError, match=r"spectrum must be one of "
                       r"\('official', 'full'\), got 'paper'"):
        FMix(spectrum='paper')
    with pytest.raises(ValueError, match=r"label_weight must be one of "
                       r"\('beta', 'area'\), got 'mask'"):
        FMix(label_weight='mask')
    with pytest.raises(ValueError, match=r"partner must be one of "
                       r"\('flip', 'randperm'\), got 'roll'"):
        FMix(partner='roll')
