"""TL-Align's maths (Xiao et al., "Token-Label Alignment for Vision
Transformers", ICCV 2023; github Euphoria16/TL-Align): the token-grid CutMix
box and the propagation of token labels through the attention blocks."""
from typing import Iterable, Tuple

import numpy as np
import torch

from .boxes import cutmix_box


def token_box(grid_side: int, lam: float,
              rng: np.random.Generator) -> Tuple[int, int, int, int]:
    """The box of the official ``rand_token_bbox`` (tla.py L57-80) on an
    S x S token grid.

    ``cut = int(S * sqrt(1 - lam))`` tokens a side, centre ``cy`` then
    ``cx`` uniform integers in [0, S), rows ``[cy - cut // 2, cy + cut //
    2)`` (so an odd ``cut`` gives an even side) and likewise the columns,
    clipped to the grid: the box may be odd-sized or non-square at a border
    and empty for ``cut <= 1``. The own share is then ``1 - area / S**2``.

    Args:
        grid_side (int): S.
        lam (float): The drawn own share, before correction.
        rng (np.random.Generator): Source of the centre.

    Returns:
        tuple: ``(top, bottom, left, right)`` in tokens, bottom/right
        exclusive.
    """
    return cutmix_box(grid_side, grid_side, lam, rng)


def token_box_mask(box: Tuple[int, int, int, int], grid_side: int,
                   device=None) -> torch.Tensor:
    """(S*S,) bool, raster order: True on the box's tokens (from the
    partner), the official ``mask`` (tla.py L150-152)."""
    top, bottom, left, right = box
    mask = torch.zeros(grid_side, grid_side, dtype=torch.bool, device=device)
    mask[top:bottom, left:right] = True
    return mask.flatten()


def propagate_token_weights(
        weights: torch.Tensor,
        attn_blocks: Iterable[torch.Tensor]) -> torch.Tensor:
    """TL-Align's propagation in its scalar form.

    Every token label is ``w * y_a + (1 - w) * y_b``, and each block maps
    labels linearly and row-stochastically, so carrying ``w`` is exactly the
    official (B, T, K) propagation (see :func:`propagate_token_labels`).

    Args:
        weights (Tensor): (B, T) weight of each image's own label per token
            (class token first).
        attn_blocks (iterable[Tensor]): Each block's (B, T, T) head-mean
            post-softmax attention, in forward order.

    Returns:
        Tensor: (B, T) ``w <- (A w + w) / 2`` after every block.
    """
    for attn in attn_blocks:
        weights = (torch.einsum('bqt,bt->bq', attn.to(weights), weights) +
                   weights) / 2
    return weights


def propagate_token_labels(
        labels: torch.Tensor,
        attn_blocks: Iterable[torch.Tensor]) -> torch.Tensor:
    """The official propagation (patched vision_transformer.py L197-242):
    per block ``y <- (A y + y) / 2`` with A the detached head-mean attention
    (residual as an equal average, MLP and norms identity for labels).

    Args:
        labels (Tensor): (B, T, K) label of each token.
        attn_blocks (iterable[Tensor]): Each block's (B, T, T) attention.

    Returns:
        Tensor: (B, T, K) after every block; row 0 is the class token's.
    """
    for attn in attn_blocks:
        labels = (attn.to(labels) @ labels + labels) / 2
    return labels
