"""FMix masks (Harris et al., 2020): binary masks of a chosen area whose
outline follows low-frequency Fourier noise."""
import numpy as np


def low_frequency_noise(height: int, width: int, decay_power: float,
                        rng: np.random.Generator) -> np.ndarray:
    """A random grey image whose spectrum falls off as ``1 / f^decay``.

    Complex Gaussian coefficients on the real-FFT grid are scaled by
    ``1 / max(f, 1 / max(H, W))^decay_power`` and transformed back, so large
    ``decay_power`` leaves only slow, blob-like variations.

    Args:
        height (int): H.
        width (int): W.
        decay_power (float): Spectral decay (3 in the paper).
        rng (np.random.Generator): Source of the coefficients.

    Returns:
        np.ndarray: (H, W) float64 image scaled to [0, 1].
    """
    freq_y = np.fft.fftfreq(height)[:, None]
    freq_x = np.fft.rfftfreq(width)[None, :]
    freqs = np.sqrt(freq_x**2 + freq_y**2)
    scale = np.maximum(freqs, 1. / max(height, width))**-decay_power
    real, imag = rng.standard_normal((2, *freqs.shape))
    noise = np.fft.irfft2(scale * (real + 1j * imag), s=(height, width))
    noise -= noise.min()
    return noise / max(noise.max(), 1e-12)


def binarise(noise: np.ndarray, area: int) -> np.ndarray:
    """True on the ``area`` brightest pixels of ``noise`` (ties: raster
    order), False elsewhere.

    Args:
        noise (np.ndarray): (H, W) grey image.
        area (int): Number of True pixels, 0..H*W.

    Returns:
        np.ndarray: (H, W) bool mask with exactly ``area`` True pixels.
    """
    if not 0 <= area <= noise.size:
        raise ValueError(f'area must be in [0, {noise.size}], got {area}')
    order = np.argsort(-noise, axis=None, kind='stable')
    mask = np.zeros(noise.size, dtype=bool)
    mask[order[:area]] = True
    return mask.reshape(noise.shape)
