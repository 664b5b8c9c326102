"""Targets of a mixed batch, and the token grid that image cells follow."""
from typing import Tuple, Union

import torch


def smooth_labels(targets: torch.Tensor, smoothing: float) -> torch.Tensor:
    """``(1 - eps) * y + eps / K`` for (B, K) one-hot or soft targets."""
    return targets * (1 - smoothing) + smoothing / targets.shape[1]


def mix_targets(targets: torch.Tensor, lam: Union[float, torch.Tensor],
                partner: torch.Tensor) -> torch.Tensor:
    """``lam * y + (1 - lam) * y_partner``: ``lam`` is each image's own share.

    Args:
        targets (Tensor): (B, K) targets.
        lam (float | Tensor): The own share, a number or (B, 1).
        partner (Tensor): (B, K) the partners' targets.

    Returns:
        Tensor: (B, K) mixed targets.
    """
    return lam * targets + (1 - lam) * partner


def token_grid_side(grid: Tuple[int, int], patch_size: Tuple[int, int],
                    image_hw: Tuple[int, int], method: str = 'SMMix') -> int:
    """Side S of the square token grid that image cells must line up with.

    Args:
        grid (tuple[int, int]): Token grid (h, w).
        patch_size (tuple[int, int]): Pixels (h, w) of one token.
        image_hw (tuple[int, int]): Height and width of the images.
        method (str): Named in the errors.

    Returns:
        int: S.

    Raises:
        ValueError: If the grid is not square or the images are not a whole
            number of patches (cells would not line up with tokens).
    """
    grid_h, grid_w = grid
    if grid_h != grid_w:
        raise ValueError(f'{method} needs a square token grid, got '
                         f'{grid_h}x{grid_w} (check the input size)')
    h, w = image_hw
    patch_h, patch_w = patch_size
    if (h, w) != (grid_h * patch_h, grid_w * patch_w):
        raise ValueError(
            f'{method}: input size {h}x{w} is not a whole number of the '
            f"backbone's {patch_h}x{patch_w} patches (token grid "
            f'{grid_h}x{grid_w}), so image cells would not line up with '
            'tokens; resize the images to a multiple of backbone.patch_size')
    return grid_h
