"""FMix masks: exact area, brightest pixels first, measurably low-frequency
outlines (full spectrum), and the official code's noise and area rule
(checked against a hand transcription of its steps)."""
import numpy as np
import pytest

from mmsmmix.ops import binarise, low_frequency_noise
from mmsmmix.ops.fmix import (official_area, official_low_frequency_noise,
                              official_noise_shape)


class _FixedNormals:
    """A stand-in generator whose one ``standard_normal`` call returns
    given numbers."""

    def __init__(self, normals):
        self.normals = normals
        self.calls = 0

    def standard_normal(self, shape):
        assert tuple(shape) == self.normals.shape
        self.calls += 1
        return self.normals.copy()


def _official_by_hand(normals, height, width, decay):
    """The official ``make_low_freq_image`` steps, written out with numpy
    from the drawn ``(H, Wf, 2)`` normals (its ``randn(1, H, Wf, 2)``)."""
    wf = normals.shape[1]
    fy = np.expand_dims(np.fft.fftfreq(height), -1)
    fx = np.fft.fftfreq(width)[:wf]
    freqs = np.sqrt(fx * fx + fy * fy)  # (H, Wf)
    scale = np.ones(1) / (np.maximum(freqs, np.array(
        [1. / max(width, height)]))**decay)
    scale = np.expand_dims(scale, -1)[None, :]  # (1, H, Wf, 1)
    spectrum = scale * normals[None]  # (1, H, Wf, 2)
    spectrum = spectrum[:, 0] + 1j * spectrum[:, 1]  # rows 0 and 1
    # numpy applies s to the last len(s) axes (given explicitly here)
    image = np.real(np.fft.irfftn(spectrum, (height, width), axes=(-2, -1)))
    image = image[:1, :height, :width]
    image = image - image.min()
    image = image / image.max()
    return image[0]


def test_binarise_keeps_the_brightest_pixels():
    noise = np.array([[0.1, 0.9, 0.3], [0.8, 0.0, 0.5], [0.2, 0.7, 0.4]])
    expected = np.array([[0, 1, 0], [1, 0, 0], [0, 1, 0]], dtype=bool)
    assert np.array_equal(binarise(noise, 3), expected)
    assert binarise(noise, 0).sum() == 0 and binarise(noise, 9).all()
    with pytest.raises(ValueError, match='area must be in'):
        binarise(noise, 10)


def _high_frequency_power(image):
    """Share of the (mean-removed) spectral power above |f| = 0.1 cycles
    per pixel."""
    spectrum = np.abs(np.fft.fft2(image - image.mean()))**2
    fy = np.fft.fftfreq(image.shape[0])[:, None]
    fx = np.fft.fftfreq(image.shape[1])[None, :]
    return spectrum[np.sqrt(fx**2 + fy**2) > 0.1].sum() / spectrum.sum()


def _boundary(mask):
    """Number of 4-neighbour pixel pairs that differ."""
    vertical = (mask[1:] != mask[:-1]).sum()
    horizontal = (mask[:, 1:] != mask[:, :-1]).sum()
    return int(vertical + horizontal)


def test_noise_and_masks_are_low_frequency():
    rng = np.random.default_rng(0)
    noise = low_frequency_noise(64, 48, 3.0, rng)
    assert noise.shape == (64, 48)
    assert noise.min() == 0 and noise.max() == pytest.approx(1)
    white = rng.random((64, 48))
    assert _high_frequency_power(noise) < 0.02
    assert _high_frequency_power(white) > 0.9
    # At half area the FMix mask's outline is a few blobs: a random mask
    # of the same area has over 20 times more boundary.
    mask = binarise(noise, 64 * 48 // 2)
    random_mask = binarise(white, 64 * 48 // 2)
    assert _boundary(mask) * 20 < _boundary(random_mask)
    # Lower decay power keeps more high frequencies.
    rough = low_frequency_noise(64, 48, 1.0, np.random.default_rng(0))
    assert _high_frequency_power(rough) > _high_frequency_power(noise)


@pytest.mark.parametrize('height, width, wf', [(6, 6, 4), (5, 7, 5),
                                               (3, 17, 10), (9, 2, 2)])
def test_official_noise_equals_hand_transcription(height, width, wf):
    # Odd widths keep one negative frequency too many: Wf = W // 2 + 2.
    assert official_noise_shape(height, width) == (height, wf, 2)
    normals = np.random.default_rng(height * 100 + width).standard_normal(
        (height, wf, 2))
    fixed = _FixedNormals(normals)
    ours = official_low_frequency_noise(height, width, 3.0, fixed)
    assert fixed.calls == 1
    assert ours.shape == (height, width) and ours.dtype == np.float64
    assert np.array_equal(ours, _official_by_hand(normals, height, width,
                                                  3.0))
    assert ours.min() == 0 and ours.max() == 1
    # A generator gives the same image as its normals passed by hand.
    drawn = official_low_frequency_noise(
        height, width, 3.0, np.random.default_rng(height * 100 + width))
    assert np.array_equal(drawn, ours)


@pytest.mark.parametrize('height, width', [(6, 6), (5, 7), (28, 28)])
def test_official_noise_ignores_coefficient_rows_from_two(height, width):
    normals = np.random.default_rng(1).standard_normal(
        official_noise_shape(height, width))
    image = official_low_frequency_noise(height, width, 3.0,
                                         _FixedNormals(normals))
    changed = normals.copy()
    changed[2:] = np.random.default_rng(2).standard_normal(
        changed[2:].shape) * 10
    assert np.array_equal(
        official_low_frequency_noise(height, width, 3.0,
                                     _FixedNormals(changed)), image)
    # Rows 0 and 1 do matter.
    for row in (0, 1):
        changed = normals.copy()
        changed[row] += 1
        assert not np.allclose(
            official_low_frequency_noise(height, width, 3.0,
                                         _FixedNormals(changed)), image)
    # Each image row is a constant plus one sinusoid of one period.
    row_spectrum = np.abs(np.fft.rfft(image, axis=1))
    assert row_spectrum[:, 2:].max() < 1e-9 * row_spectrum.max()
    assert row_spectrum[:, 1].min() > 0


def test_official_noise_needs_two_rows():
    with pytest.raises(ValueError, match='height >= 2'):
        official_low_frequency_noise(1, 8, 3.0, np.random.default_rng(0))


def test_official_masks_keep_one_stretch_per_row():
    rng = np.random.default_rng(0)
    rows_between = 0
    for _ in range(200):
        lam = rng.uniform(0.2, 0.8)
        noise = official_low_frequency_noise(28, 28, 3.0, rng)
        area = official_area(lam, 28 * 28, rng.random())
        mask = binarise(noise, area)
        assert mask.sum() == area
        straight = (mask[:, 1:] != mask[:, :-1]).sum(1)
        circular = (mask != np.roll(mask, 1, axis=1)).sum(1)
        assert straight.max() <= 2
        partial = mask.any(1) & ~mask.all(1)
        assert np.all(circular[partial] == 2)
        assert np.all(circular[~partial] == 0)
        rows_between += partial.sum()
    assert rows_between > 200  # the check saw many cut rows
    # The full spectrum has no such limit: some of its rows are cut more
    # than once.
    full = [binarise(low_frequency_noise(28, 28, 3.0, rng), 28 * 28 // 2)
            for _ in range(20)]
    assert max((m != np.roll(m, 1, axis=1)).sum(1).max() for m in full) > 2


def test_official_area_rounds_by_a_coin():
    assert official_area(0.25, 10, 0.51) == 3
    assert official_area(0.25, 10, 0.5) == 2  # strictly above one half
    assert official_area(0.25, 10, 0.0) == 2
    assert official_area(0.5, 10, 0.9) == official_area(0.5, 10, 0.1) == 5
    assert official_area(1.0, 784, 0.9) == 784
    assert official_area(0.0, 784, 0.9) == 0
    assert isinstance(official_area(0.3, 7, 0.7), int)
