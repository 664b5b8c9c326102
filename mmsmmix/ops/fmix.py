"""FMix masks (Harris et al., 2020): binary masks of a chosen area whose
outline follows low-frequency Fourier noise.

Two grey images: :func:`low_frequency_noise` is the full ``1 / f^decay``
spectrum the paper describes; :func:`official_low_frequency_noise` is what the
official code (ecs-vlc/FMix) computes, indexing bug included. Two area rules:
``round(lam * H * W)`` and :func:`official_area` (ceil or floor by a coin)."""
import math

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

    The official ``binarise_mask`` takes the top of
    ``argsort()[::-1]`` instead; both pick the same pixels unless
    ``noise`` has exactly equal values across the cut (probability zero for
    Gaussian noise).

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


def official_low_frequency_noise(height: int, width: int,
                                 decay_power: float,
                                 rng: np.random.Generator) -> np.ndarray:
    """The grey image of the official FMix code (``make_low_freq_image`` in
    ecs-vlc/FMix), computed from the same standard normals.

    This reproduces the official code's indexing bug on purpose, because
    the published FMix results were produced with it. The official code
    draws ``(H, Wf, 2)`` normals (``Wf = W // 2 + 2`` for odd ``W``,
    ``W // 2 + 1`` for even ``W``; ``H`` frequency rows, ``Wf`` frequency
    columns, a real/imaginary pair), scales them by
    ``1 / max(f, 1 / max(H, W))^decay_power`` and then meant to combine the
    pair into complex numbers, but indexes the frequency-row axis instead:
    the complex array is ``row 0 + 1j * row 1``, of shape ``(Wf, 2)``, which
    the inverse real FFT reads as (vertical frequency, horizontal
    frequency), zero-padded or cut to ``(H, W // 2 + 1)``. Consequences:

    * only coefficient rows 0 and 1 of the normals reach the image (rows
      2..H-1 are drawn and discarded);
    * every image row is a constant plus one sinusoid of exactly one period
      across the width, so each row of a binarised mask is one kept
      stretch (circularly): at most two value changes along a row.

    The image is not the ``1 / f^decay`` noise the paper describes; that is
    :func:`low_frequency_noise`.

    Args:
        height (int): H (at least 2, as the official code needs rows 0
            and 1).
        width (int): W.
        decay_power (float): Spectral decay (3 in the paper).
        rng (np.random.Generator): Source of the normals: exactly one
            ``rng.standard_normal((H, Wf, 2))`` call (the official
            ``np.random.randn(1, H, Wf, 2)``, same C order); see
            :func:`official_noise_shape`.

    Returns:
        np.ndarray: (H, W) float64 image: minus its minimum, divided by its
        maximum (so in [0, 1]), as in the official code.
    """
    if height < 2:
        raise ValueError(f'official FMix noise needs height >= 2, got '
                         f'{height}')
    normals = rng.standard_normal(official_noise_shape(height, width))
    freq_y = np.fft.fftfreq(height)[:, None]
    freq_x = np.fft.fftfreq(width)[:normals.shape[1]][None, :]
    freqs = np.sqrt(freq_x * freq_x + freq_y * freq_y)
    scale = 1. / np.maximum(freqs, 1. / max(width, height))**decay_power
    coefficients = scale[..., None] * normals  # (H, Wf, 2)
    # The official indexing: frequency rows 0 and 1, not the pair.
    spectrum = coefficients[0] + 1j * coefficients[1]  # (Wf, 2)
    noise = np.real(np.fft.irfftn(spectrum, (height, width), axes=(0, 1)))
    noise = noise - noise.min()
    return noise / max(noise.max(), 1e-12)


def official_noise_shape(height: int, width: int) -> tuple:
    """Shape ``(H, Wf, 2)`` of the normals the official code draws, with
    ``Wf = W // 2 + 2`` for odd ``W`` and ``W // 2 + 1`` for even ``W`` (the
    official ``fftfreqnd`` keeps one negative frequency too many for odd
    widths)."""
    return (height, width // 2 + (2 if width % 2 else 1), 2)


def official_area(lam: float, size: int, coin: float) -> int:
    """The official number of kept pixels: ``ceil(lam * size)`` when
    ``coin > 0.5``, else ``floor(lam * size)`` (``binarise_mask`` in
    ecs-vlc/FMix, with ``coin`` its ``random.random()``).

    Args:
        lam (float): The drawn share, in [0, 1].
        size (int): H * W.
        coin (float): A uniform draw in [0, 1).

    Returns:
        int: The area, 0..size.
    """
    return int(math.ceil(lam * size) if coin > 0.5 else
               math.floor(lam * size))
