"""FMix masks: exact area, brightest pixels first, and measurably
low-frequency outlines."""
import numpy as np
import pytest

from mmsmmix.ops import binarise, low_frequency_noise


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
    return int((mask[1:] != mask[:-1]).sum() + (mask[:, 1:] !=
                                                  mask[:, :-1]).sum())


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
