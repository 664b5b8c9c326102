"""Common image corruptions after ImageNet-C, in numpy and OpenCV.

Plain functions, no registry. Each corruption maps a uint8 image of shape
(H, W) or (H, W, C) (C = 1 or 3; colour in OpenCV's BGR order) and a severity
1..5 to a uint8 image of the same shape; the random ones draw from the numpy
``Generator`` they are given, so a seed fixes the result.

The constants are those of Hendrycks & Dietterich, *Benchmarking Neural
Network Robustness to Common Corruptions and Perturbations* (ICLR 2019,
``imagenet_c/corruptions.py``), which were set for 224 x 224 images.
Constants that are lengths in pixels (blur radii and sigmas) are scaled by
``min(H, W) / 224`` so that a corruption covers the same share of a smaller
image; pixelate and fog are relative to the image size already, and the
noise, contrast, brightness and JPEG constants act on values, not lengths.
Deviations of the implementation: defocus integrates the disk over pixel
squares (so that radii below one pixel still blur, and blur more as they
grow), motion blur is a one-sided Gaussian
streak splatted bilinearly (as ImageMagick's, which ImageNet-C calls), and
outputs are rounded rather than truncated to uint8.
"""
import math
from typing import Callable, Dict

import cv2
import numpy as np

Corruption = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]

REFERENCE_SIZE = 224


def _check(img: np.ndarray, severity: int) -> None:
    if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or \
            img.ndim not in (2, 3) or (img.ndim == 3
                                       and img.shape[2] not in (1, 3)):
        raise ValueError('corruptions take uint8 images of shape (H, W) or '
                         '(H, W, C) with C in (1, 3), got '
                         f'{getattr(img, "dtype", type(img))} '
                         f'{getattr(img, "shape", "")}')
    check_severity(severity)


def check_severity(severity: int) -> None:
    """Raise ValueError unless ``severity`` is one of 1..5."""
    if severity not in (1, 2, 3, 4, 5):
        raise ValueError(f'severity must be 1..5, got {severity!r}')


def check_corruption(name: str) -> None:
    """Raise KeyError unless ``name`` is a key of :data:`CORRUPTIONS`."""
    if name not in CORRUPTIONS:
        raise KeyError(f'unknown corruption {name!r}; choose from '
                       f'{", ".join(CORRUPTIONS)}')


def _to_float(img: np.ndarray) -> np.ndarray:
    return img.astype(np.float32) / 255.


def _to_uint8(x: np.ndarray, shape) -> np.ndarray:
    return np.rint(np.clip(x, 0, 1) * 255).astype(np.uint8).reshape(shape)


def _length_scale(img: np.ndarray) -> float:
    return min(img.shape[:2]) / REFERENCE_SIZE


def _filter(img: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Correlate every channel with ``kernel`` (reflected borders)."""
    out = cv2.filter2D(_to_float(img), -1, kernel.astype(np.float32),
                       borderType=cv2.BORDER_REFLECT_101)
    return _to_uint8(out, img.shape)


def gaussian_noise(img: np.ndarray, severity: int,
                   rng: np.random.Generator) -> np.ndarray:
    """Additive Gaussian noise, sigma 0.08..0.38 of the value range."""
    _check(img, severity)
    c = (.08, .12, .18, .26, .38)[severity - 1]
    x = _to_float(img)
    return _to_uint8(x + rng.normal(scale=c, size=x.shape), img.shape)


def shot_noise(img: np.ndarray, severity: int,
               rng: np.random.Generator) -> np.ndarray:
    """Poisson noise with 60..3 photons at full brightness."""
    _check(img, severity)
    c = (60, 25, 12, 5, 3)[severity - 1]
    return _to_uint8(rng.poisson(_to_float(img) * c) / c, img.shape)


def impulse_noise(img: np.ndarray, severity: int,
                  rng: np.random.Generator) -> np.ndarray:
    """Salt-and-pepper noise on 3%..27% of the values (half each)."""
    _check(img, severity)
    c = (.03, .06, .09, .17, .27)[severity - 1]
    x = _to_float(img)
    flipped = rng.random(x.shape) < c
    salted = rng.random(x.shape) < 0.5
    x[flipped & salted] = 1.
    x[flipped & ~salted] = 0.
    return _to_uint8(x, img.shape)


def disk_kernel(radius: float, alias_blur: float,
                supersample: int = 8) -> np.ndarray:
    """Normalised disk blur kernel for a pixel grid, then a 3x3 Gaussian.

    The disk (uniform, of the given radius) spreads each source pixel's
    square; kernel entry k is the share of that spread landing in the pixel
    at offset k, i.e. the disk convolved with the pixel square twice (a
    separable triangle of half-width 1). The kernel is thus the identity at
    radius 0 and grows continuously with the radius, also below one pixel,
    where ImageNet-C's aliased disk stays a single pixel.

    Args:
        radius (float): Disk radius in pixels.
        alias_blur (float): Sigma of the final 3x3 Gaussian (ImageNet-C's
            anti-aliasing blur).
        supersample (int): Sub-pixel samples per pixel and axis.

    Returns:
        np.ndarray: (K, K) float32 kernel summing to 1, K odd.
    """
    half = int(math.ceil(radius)) + 1
    n = 2 * half * supersample + 1
    axis = np.linspace(-half, half, n)  # fine grid, includes 0
    disk = ((axis[:, None]**2 + axis[None, :]**2) <= radius**2).astype(
        np.float64)
    offsets = np.arange(-half, half + 1)
    tri = np.clip(1 - np.abs(offsets[:, None] - axis[None, :]), 0, None)
    kernel = (tri @ disk @ tri.T).astype(np.float32)
    kernel = cv2.GaussianBlur(kernel / kernel.sum(), (3, 3), alias_blur)
    return kernel / kernel.sum()


def defocus_blur(img: np.ndarray, severity: int,
                 rng: np.random.Generator) -> np.ndarray:
    """Disk blur of radius (3..10) * min(H, W) / 224 pixels."""
    _check(img, severity)
    radius, alias_blur = ((3, .1), (4, .5), (6, .5), (8, .5),
                          (10, .5))[severity - 1]
    return _filter(img, disk_kernel(radius * _length_scale(img), alias_blur))


def motion_kernel(length: float, sigma: float, angle: float) -> np.ndarray:
    """One-sided Gaussian streak: weight ``exp(-t^2 / 2 sigma^2)`` at
    ``t = 0, 1, ..., floor(length)`` pixels along ``angle`` (degrees).

    Returns:
        np.ndarray: (K, K) float32 kernel summing to 1, centred, K odd.
    """
    steps = np.arange(int(math.floor(length)) + 1, dtype=np.float64)
    weights = np.exp(-steps**2 / (2 * sigma**2))
    half = int(math.ceil(length)) + 1
    kernel = np.zeros((2 * half + 1, 2 * half + 1), np.float64)
    theta = math.radians(angle)
    xs = half + steps * math.cos(theta)
    ys = half + steps * math.sin(theta)
    for x, y, wgt in zip(xs, ys, weights):  # bilinear splatting
        x0, y0 = int(math.floor(x)), int(math.floor(y))
        fx, fy = x - x0, y - y0
        kernel[y0, x0] += wgt * (1 - fx) * (1 - fy)
        kernel[y0, x0 + 1] += wgt * fx * (1 - fy)
        kernel[y0 + 1, x0] += wgt * (1 - fx) * fy
        kernel[y0 + 1, x0 + 1] += wgt * fx * fy
    return (kernel / kernel.sum()).astype(np.float32)


def motion_blur(img: np.ndarray, severity: int,
                rng: np.random.Generator) -> np.ndarray:
    """Streak of radius (10..20) and sigma (3..15), times min(H, W) / 224,
    at a random angle in [-45, 45) degrees; like ImageMagick's motion blur
    the streak spans ``2 * radius`` pixels."""
    _check(img, severity)
    radius, sigma = ((10, 3), (15, 5), (15, 8), (15, 12),
                     (20, 15))[severity - 1]
    angle = rng.uniform(-45, 45)
    scale = _length_scale(img)
    return _filter(img, motion_kernel(2 * radius * scale, sigma * scale,
                                      angle))


def contrast(img: np.ndarray, severity: int,
             rng: np.random.Generator) -> np.ndarray:
    """Shrink values towards the per-channel mean by 0.4..0.05."""
    _check(img, severity)
    c = (.4, .3, .2, .1, .05)[severity - 1]
    x = _to_float(img)
    mean = x.mean(axis=(0, 1), keepdims=True)
    return _to_uint8((x - mean) * c + mean, img.shape)


def brightness(img: np.ndarray, severity: int,
               rng: np.random.Generator) -> np.ndarray:
    """Add 0.1..0.5 to the HSV value (to the intensity of grey images)."""
    _check(img, severity)
    c = (.1, .2, .3, .4, .5)[severity - 1]
    x = _to_float(img)
    if x.ndim == 3 and x.shape[2] == 3:
        hsv = cv2.cvtColor(x, cv2.COLOR_BGR2HSV)
        hsv[..., 2] = np.clip(hsv[..., 2] + c, 0, 1)
        return _to_uint8(cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR), img.shape)
    return _to_uint8(x + c, img.shape)


def jpeg(img: np.ndarray, severity: int,
         rng: np.random.Generator) -> np.ndarray:
    """JPEG compression at quality 25..7."""
    _check(img, severity)
    quality = (25, 18, 15, 10, 7)[severity - 1]
    plane = img[..., 0] if img.ndim == 3 and img.shape[2] == 1 else img
    ok, buf = cv2.imencode('.jpg', plane, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError('OpenCV could not encode the image as JPEG')
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED).reshape(img.shape)


def pixelate(img: np.ndarray, severity: int,
             rng: np.random.Generator) -> np.ndarray:
    """Box-downsample to 0.6..0.25 of the size and box-upsample back."""
    _check(img, severity)
    c = (.6, .5, .4, .3, .25)[severity - 1]
    h, w = img.shape[:2]
    small = cv2.resize(img, (max(1, int(w * c)), max(1, int(h * c))),
                       interpolation=cv2.INTER_AREA)
    return cv2.resize(
        small, (w, h), interpolation=cv2.INTER_AREA).reshape(img.shape)


def plasma_fractal(mapsize: int, wibbledecay: float,
                   rng: np.random.Generator) -> np.ndarray:
    """Diamond-square plasma fractal in [0, 1] (ImageNet-C's, seeded).

    Args:
        mapsize (int): Side of the square map, a power of two.
        wibbledecay (float): Roughness decay per octave; smaller is rougher.
        rng (np.random.Generator): Source of the random displacements.

    Returns:
        np.ndarray: (mapsize, mapsize) float64 map.
    """
    if mapsize < 2 or mapsize & (mapsize - 1):
        raise ValueError(f'mapsize must be a power of two >= 2, got {mapsize}')
    maparray = np.zeros((mapsize, mapsize))
    stepsize = mapsize
    wibble = 100.

    def wibbledmean(array):
        return array / 4 + wibble * rng.uniform(-wibble, wibble, array.shape)

    while stepsize >= 2:
        half = stepsize // 2
        # squares: centre of each square from its four corners
        corners = maparray[0:mapsize:stepsize, 0:mapsize:stepsize]
        squares = corners + np.roll(corners, shift=-1, axis=0)
        squares += np.roll(squares, shift=-1, axis=1)
        maparray[half:mapsize:stepsize,
                 half:mapsize:stepsize] = wibbledmean(squares)
        # diamonds: edge midpoints from the two corners and two centres
        centres = maparray[half:mapsize:stepsize, half:mapsize:stepsize]
        corners = maparray[0:mapsize:stepsize, 0:mapsize:stepsize]
        left = centres + np.roll(centres, 1, axis=0) + \
            corners + np.roll(corners, -1, axis=1)
        maparray[0:mapsize:stepsize,
                 half:mapsize:stepsize] = wibbledmean(left)
        top = centres + np.roll(centres, 1, axis=1) + \
            corners + np.roll(corners, -1, axis=0)
        maparray[half:mapsize:stepsize,
                 0:mapsize:stepsize] = wibbledmean(top)
        stepsize //= 2
        wibble /= wibbledecay
    maparray -= maparray.min()
    return maparray / maparray.max()


def fog(img: np.ndarray, severity: int,
        rng: np.random.Generator) -> np.ndarray:
    """Low-frequency haze: add (1.5..3) x a plasma fractal, rescale."""
    _check(img, severity)
    amount, decay = ((1.5, 2), (2., 2), (2.5, 1.7), (2.5, 1.5),
                     (3., 1.4))[severity - 1]
    h, w = img.shape[:2]
    mapsize = 1 << max(1, (max(h, w) - 1).bit_length())
    haze = plasma_fractal(mapsize, decay, rng)[:h, :w]
    x = _to_float(img)
    if x.ndim == 3:
        haze = haze[..., None]
    max_val = x.max()
    return _to_uint8((x + amount * haze) * max_val / (max_val + amount),
                     img.shape)


CORRUPTIONS: Dict[str, Corruption] = dict(
    gaussian_noise=gaussian_noise,
    shot_noise=shot_noise,
    impulse_noise=impulse_noise,
    defocus_blur=defocus_blur,
    motion_blur=motion_blur,
    contrast=contrast,
    brightness=brightness,
    jpeg=jpeg,
    pixelate=pixelate,
    fog=fog,
)

# Corruptions that draw from ``rng``; the others are deterministic.
RANDOM_CORRUPTIONS = ('gaussian_noise', 'shot_noise', 'impulse_noise',
                      'motion_blur', 'fog')


def corrupt(img: np.ndarray, name: str, severity: int,
            rng: np.random.Generator) -> np.ndarray:
    """Apply the corruption called ``name``.

    Args:
        img (np.ndarray): uint8 (H, W) or (H, W, C) image.
        name (str): A key of :data:`CORRUPTIONS`.
        severity (int): 1..5.
        rng (np.random.Generator): Source of randomness.

    Returns:
        np.ndarray: uint8 image of the same shape.
    """
    check_corruption(name)
    return CORRUPTIONS[name](img, severity, rng)


def parse_corruptions(names: str):
    """Split a comma-separated list; ``'all'`` stands for every corruption.

    Returns:
        list[str]: Known corruption names, in the order given.
    """
    parsed = []
    for name in (n.strip() for n in names.split(',') if n.strip()):
        expanded = list(CORRUPTIONS) if name == 'all' else [name]
        for item in expanded:
            if item not in CORRUPTIONS:
                raise KeyError(f'unknown corruption {item!r}; choose from '
                               f'all, {", ".join(CORRUPTIONS)}')
            if item not in parsed:
                parsed.append(item)
    if not parsed:
        raise ValueError('no corruption named')
    return parsed
