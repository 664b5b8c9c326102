"""CutMix boxes and the attention mass they hold (TransMix's relabelling)."""
from typing import Tuple

import numpy as np
import torch
import torch.nn.functional as F


def cutmix_box(height: int, width: int, lam: float,
               rng: np.random.Generator) -> Tuple[int, int, int, int]:
    """A CutMix box as timm draws it: sides ``sqrt(1 - lam)`` of the image's,
    centre uniform, clipped to the image.

    Args:
        height (int): H.
        width (int): W.
        lam (float): Share the image keeps before clipping.
        rng (np.random.Generator): Source of the centre.

    Returns:
        tuple: ``(top, bottom, left, right)``, bottom/right exclusive.
    """
    ratio = np.sqrt(1. - lam)
    box_h, box_w = int(height * ratio), int(width * ratio)
    cy, cx = int(rng.integers(0, height)), int(rng.integers(0, width))
    top, bottom = np.clip([cy - box_h // 2, cy + box_h // 2], 0, height)
    left, right = np.clip([cx - box_w // 2, cx + box_w // 2], 0, width)
    return int(top), int(bottom), int(left), int(right)


def box_token_mask(box: Tuple[int, int, int, int], image_hw: Tuple[int, int],
                   grid: Tuple[int, int]) -> torch.Tensor:
    """The box as a mask over the token grid (nearest resize of the pixel
    mask, as the official TransMix code does).

    Returns:
        Tensor: (gh * gw,) float mask, 1 inside the box.
    """
    top, bottom, left, right = box
    mask = torch.zeros(1, 1, *image_hw)
    mask[..., top:bottom, left:right] = 1
    return F.interpolate(mask, size=tuple(grid), mode='nearest').flatten()


def attention_share(scores: torch.Tensor,
                    token_mask: torch.Tensor) -> torch.Tensor:
    """Share of each image's attention that falls inside the mask.

    Args:
        scores (Tensor): (B, N) non-negative attention per patch.
        token_mask (Tensor): (N,) or (B, N) mask in {0, 1}.

    Returns:
        Tensor: (B,) ``sum(mask * scores) / sum(scores)``.
    """
    scores = scores.float()
    return (scores * token_mask.to(scores)).sum(-1) / scores.sum(-1)
