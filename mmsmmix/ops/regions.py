"""Max-min attention region mixing (SMMix) on a token grid.

The image is cut into an S x S grid of cells that line up with the ViT's patch
tokens. For a square region side r, every r x r window (stride 1) of the
S x S score map is scored by its sum; each image receives, on its own
least-attended window, its partner's most-attended window.
"""
import math
from dataclasses import dataclass
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F

from .labels import mix_targets


@dataclass
class RegionMix:
    """One SMMix branch on a batch (partner of image i: image B-1-i).

    Attributes:
        mixed (Tensor): (B, C, H, W) mixed images.
        source_mask (Tensor): (B, S*S) bool, the cells pasted from the
            partner (each image's destination window).
        lam (float): Each image's own share of the area, ``1 - r²/S²``.
        target_windows (Tensor): (B,) index of each image's least-attended
            window (the destination), see :func:`window_box`.
        source_windows (Tensor): (B,) index of each image's most-attended
            window (what its partner receives).
        targets (Tensor, optional): (B, K) ``lam * y + (1 - lam) * y_partner``
            when targets were given.
    """
    mixed: torch.Tensor
    source_mask: torch.Tensor
    lam: float
    target_windows: torch.Tensor
    source_windows: torch.Tensor
    targets: Optional[torch.Tensor] = None


def check_side_ratios(min_side_ratio: float, max_side_ratio: float) -> None:
    """Raise ValueError unless
    ``0 < min_side_ratio <= max_side_ratio <= 1``."""
    for name, value in (('min_side_ratio', min_side_ratio),
                        ('max_side_ratio', max_side_ratio)):
        if not 0 < value <= 1:
            raise ValueError(f'{name} must be in (0, 1], got {value}')
    if min_side_ratio > max_side_ratio:
        raise ValueError('min_side_ratio must not exceed max_side_ratio, got '
                         f'{min_side_ratio} > {max_side_ratio}')


def region_sizes(side: int, min_side_ratio: float,
                 max_side_ratio: float) -> List[int]:
    """Candidate square region sides ``int(S*min) .. int(S*max)``.

    A region never covers the whole grid (sides are capped at S-1), so the
    target and the source both keep at least one token.

    Args:
        side (int): Grid side S >= 2.
        min_side_ratio (float): Lower ratio in (0, 1].
        max_side_ratio (float): Upper ratio in [min_side_ratio, 1].

    Returns:
        list[int]: The allowed sides.
    """
    check_side_ratios(min_side_ratio, max_side_ratio)
    low = max(int(side * min_side_ratio), 1)
    high = min(int(side * max_side_ratio), side - 1)
    if high < low:
        raise ValueError(
            f'no region side fits a {side}x{side} grid with side ratios '
            f'({min_side_ratio}, {max_side_ratio}); widen the ratios')
    return list(range(low, high + 1))


def window_sums(scores: torch.Tensor, region_size: int) -> torch.Tensor:
    """Sum of scores inside every r x r window, stride 1.

    Args:
        scores (Tensor): (B, S, S) score maps.
        region_size (int): Window side r, 1 <= r <= S.

    Returns:
        Tensor: (B, (S-r+1)**2) sums, windows in raster order of their
        top-left corner.
    """
    # unfold + sum, the reduction of the official code, so that near-ties
    # resolve to the same window bit for bit.
    return F.unfold(scores.unsqueeze(1), region_size, stride=1).sum(dim=1)


def window_box(index: int, side: int,
               region_size: int) -> Tuple[int, int, int, int]:
    """Cells ``(top, left, bottom, right)`` (end exclusive) of a window.

    Args:
        index (int): Window index into the ``(S-r+1)**2`` positions in
            raster order of the top-left corner, as :func:`window_sums`
            orders them.
        side (int): Grid side S.
        region_size (int): Window side r.

    Returns:
        tuple[int, int, int, int]: The window's cell rectangle.
    """
    positions = side - region_size + 1
    index = int(index)
    if not 0 <= index < positions**2:
        raise ValueError(f'window index {index} is out of range for r='
                         f'{region_size} on a {side}x{side} grid')
    top, left = divmod(index, positions)
    return top, left, top + region_size, left + region_size


def _window_cells(corner: torch.Tensor, side: int,
                  region_size: int) -> torch.Tensor:
    """Token indices (raster order) of the windows with the given corners
    (the tensor form of :func:`window_box`).

    Args:
        corner (Tensor): (B,) window index into the (S-r+1)**2 positions.

    Returns:
        Tensor: (B, r*r) flat cell indices on the S x S grid.
    """
    positions = side - region_size + 1
    top, left = corner // positions, corner % positions
    offs = torch.arange(region_size, device=corner.device)
    rows = (top[:, None] + offs)[:, :, None]
    cols = (left[:, None] + offs)[:, None, :]
    return (rows * side + cols).flatten(1)


def max_min_region_mix(images: torch.Tensor,
                       scores: torch.Tensor,
                       region_size: int,
                       targets: Optional[torch.Tensor] = None) -> RegionMix:
    """Paste each partner's most-attended region on the least-attended one.

    The partner of sample i is sample B-1-i (the batch reversed). Target i
    keeps its own image except on its min-score r x r window, which receives
    the cells of the partner's max-score window in raster order.

    Args:
        images (Tensor): (B, C, H, W); H and W divisible by S.
        scores (Tensor): (B, S*S) or (B, S, S) patch scores.
        region_size (int): Region side r in cells, 1 <= r <= S.
        targets (Tensor, optional): (B, K) targets to mix with ``lam``.

    Returns:
        RegionMix: Mixed images (a new tensor; ``images`` is untouched), the
        pasted cells, ``lam = 1 - r*r/(S*S)``, both windows of every image
        and the mixed targets.
    """
    if images.dim() != 4:
        raise ValueError(
            f'images must be (B, C, H, W), got {tuple(images.shape)}')
    b, c, h, w = images.shape
    if scores.dim() == 2:
        side = math.isqrt(scores.shape[1])
        if side * side != scores.shape[1]:
            raise ValueError('scores of shape (B, N) need a square N, got '
                             f'N={scores.shape[1]}')
        scores = scores.reshape(-1, side, side)
    if scores.dim() != 3 or scores.shape[1] != scores.shape[2] or \
            scores.shape[0] != b:
        raise ValueError('scores must be (B, S*S) or (B, S, S) with the '
                         f'batch size of images, got {tuple(scores.shape)}')
    side = scores.shape[1]
    if h % side or w % side:
        raise ValueError(f'image size {h}x{w} is not divisible by the '
                         f'{side}x{side} token grid')
    if not 1 <= region_size <= side:
        raise ValueError(
            f'region_size must be in 1..{side}, got {region_size}')

    sums = window_sums(scores.float(), region_size)
    target_windows, source_windows = sums.argmin(dim=1), sums.argmax(dim=1)
    dst = _window_cells(target_windows, side, region_size)
    src = _window_cells(source_windows, side, region_size).flip(0)

    ph, pw = h // side, w // side
    # (B, C, S, ph, S, pw) -> (B, S*S, C, ph, pw): one row per grid cell.
    cells = images.reshape(b, c, side, ph, side, pw).permute(
        0, 2, 4, 1, 3, 5).reshape(b, side * side, c, ph, pw)
    mixed = cells.clone()
    rows = torch.arange(b, device=images.device)[:, None]
    mixed[rows, dst] = cells.flip(0)[rows, src]
    mixed = mixed.reshape(b, side, side, c, ph, pw).permute(
        0, 3, 1, 4, 2, 5).reshape(b, c, h, w)

    source_mask = torch.zeros(
        b, side * side, dtype=torch.bool, device=images.device)
    source_mask[rows, dst] = True
    # (S^2 - r^2) / S^2 as in the official code: the exact ratio, bit for bit
    lam = (side**2 - region_size**2) / side**2
    return RegionMix(
        mixed=mixed,
        source_mask=source_mask,
        lam=lam,
        target_windows=target_windows,
        source_windows=source_windows,
        targets=None if targets is None else mix_targets(
            targets, lam, targets.flip(0)))
