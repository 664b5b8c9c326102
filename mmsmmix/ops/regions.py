"""Max-min attention region mixing (SMMix) on a token grid.

The image is cut into an S x S grid of cells that line up with the ViT's patch
tokens. For a square region side r, every r x r window (stride 1) of the
S x S score map is scored by its sum; each image receives, on its own
least-attended window, its partner's most-attended window.
"""
import math
from typing import List, Tuple

import torch
import torch.nn.functional as F


def check_side_ratios(min_side_ratio: float, max_side_ratio: float) -> None:
    """Raise ValueError unless ``0 < min_side_ratio <= max_side_ratio <= 1``."""
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


def _window_cells(corner: torch.Tensor, side: int,
                  region_size: int) -> torch.Tensor:
    """Token indices (raster order) of the windows with the given corners.

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


def max_min_region_mix(
        images: torch.Tensor, scores: torch.Tensor,
        region_size: int) -> Tuple[torch.Tensor, torch.Tensor, float]:
    """Paste each partner's most-attended region on the least-attended one.

    The partner of sample i is sample B-1-i (the batch reversed). Target i
    keeps its own image except on its min-score r x r window, which receives
    the cells of the partner's max-score window in raster order.

    Args:
        images (Tensor): (B, C, H, W); H and W divisible by S.
        scores (Tensor): (B, S*S) or (B, S, S) patch scores.
        region_size (int): Region side r in cells, 1 <= r <= S.

    Returns:
        tuple: ``(mixed, source_mask, lam)``: mixed images (B, C, H, W) (a new
        tensor; ``images`` is untouched), a bool (B, S*S) mask of the cells
        pasted from the partner, and ``lam = 1 - r*r/(S*S)``, the target's
        share of the area.
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
    dst = _window_cells(sums.argmin(dim=1), side, region_size)
    src = _window_cells(sums.argmax(dim=1), side, region_size).flip(0)

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
    return mixed, source_mask, lam
