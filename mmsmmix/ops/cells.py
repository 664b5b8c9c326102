"""MixPro's MaskMix masks: random cells of the token grid."""
import math

import numpy as np
import torch


def cell_counts(grid: int, cell_tokens: int, share: float):
    """Cells a side and cells kept, as the official MaskMix counts them.

    Args:
        grid (int): Token grid side S.
        cell_tokens (int): Cell side in tokens; the last row and column of
            cells are cropped to the grid when it does not divide S.
        share (float): Drawn share of cells to keep, in [0, 1].

    Returns:
        tuple[int, int]: ``G = ceil(S / cell_tokens)`` and
        ``ceil(G * G * share)``.
    """
    side = math.ceil(grid / cell_tokens)
    return side, math.ceil(side * side * share)


def cell_token_masks(grid: int,
                     cell_tokens: int,
                     share: float,
                     rng: np.random.Generator,
                     batch: int = 1,
                     per_sample: bool = True) -> torch.Tensor:
    """Keep ``ceil(G² * share)`` random cells of ``cell_tokens`` x
    ``cell_tokens`` tokens per mask (the last row/column of cells cropped to
    the grid), as MixPro's MaskMix draws them.

    Args:
        grid (int): Token grid side S.
        cell_tokens (int): Cell side in tokens.
        share (float): Share of cells kept, in [0, 1].
        rng (np.random.Generator): Source of the cell choice.
        batch (int): Number of masks B. Defaults to 1.
        per_sample (bool): One ``rng.permutation(G²)`` per mask, in batch
            order (official), or one for all. Defaults to True.

    Returns:
        Tensor: (B, S, S) bool, True on the kept tokens.
    """
    side, keep = cell_counts(grid, cell_tokens, share)
    chosen = np.zeros((batch, side * side), dtype=bool)
    for i in range(batch if per_sample else 1):
        chosen[i, rng.permutation(side * side)[:keep]] = True
    if not per_sample:
        chosen[1:] = chosen[0]
    mask = torch.from_numpy(chosen.reshape(batch, side, side))
    mask = mask.repeat_interleave(cell_tokens, 1).repeat_interleave(
        cell_tokens, 2)
    return mask[:, :grid, :grid]


def token_to_pixel_mask(token_mask: torch.Tensor,
                        patch_size) -> torch.Tensor:
    """(..., S, S) token mask -> (..., S*ph, S*pw) pixel mask, each token's
    cell."""
    ph, pw = patch_size
    return token_mask.repeat_interleave(ph, -2).repeat_interleave(pw, -1)
