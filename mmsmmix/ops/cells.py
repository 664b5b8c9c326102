"""MixPro's MaskMix masks: random cells of the token grid."""
import math

import numpy as np
import torch


def cell_token_mask(grid: int, cell_tokens: int, share: float,
                    rng: np.random.Generator) -> torch.Tensor:
    """Keep ``ceil(cells * share)`` random cells of ``cell_tokens`` x
    ``cell_tokens`` tokens (the last row/column of cells cropped to the
    grid), as MixPro's MaskMix draws them.

    Args:
        grid (int): Token grid side S.
        cell_tokens (int): Cell side in tokens.
        share (float): Share of cells kept, in [0, 1].
        rng (np.random.Generator): Source of the cell choice.

    Returns:
        Tensor: (S, S) bool, True on the kept tokens.
    """
    cells = math.ceil(grid / cell_tokens)
    keep = math.ceil(cells * cells * share)
    chosen = np.zeros(cells * cells, dtype=bool)
    chosen[rng.permutation(cells * cells)[:keep]] = True
    mask = torch.from_numpy(chosen.reshape(cells, cells))
    mask = mask.repeat_interleave(cell_tokens, 0).repeat_interleave(
        cell_tokens, 1)
    return mask[:grid, :grid]


def token_to_pixel_mask(token_mask: torch.Tensor,
                        patch_size) -> torch.Tensor:
    """(S, S) token mask -> (S*ph, S*pw) pixel mask, each token's cell."""
    ph, pw = patch_size
    return token_mask.repeat_interleave(ph, 0).repeat_interleave(pw, 1)
