"""Who mixes with whom, and the two mixes every recipe shares.

The official codes pair images in two ways: timm's Mixup/CutMix, SMMix and
TransMix mix each image with the batch reversed (``'flip'``); FMix, MixPro,
RankMixup and MMPretrain's augments draw a random permutation
(``'randperm'``).
"""
from typing import Tuple

import numpy as np
import torch

from .boxes import cutmix_box

PARTNER_MODES = ('flip', 'randperm')


def check_partner_mode(method: str, partner: str) -> None:
    """Refuse a pairing name that is not one of :data:`PARTNER_MODES`."""
    if partner not in PARTNER_MODES:
        raise ValueError(f'{method} partner must be one of {PARTNER_MODES}, '
                         f'got {partner!r}')


def partner_index(batch_size: int, partner: str,
                  rng: np.random.Generator) -> torch.Tensor:
    """The partner of each image.

    Args:
        batch_size (int): B.
        partner (str): ``'flip'`` (image i with image B-1-i, no draw) or
            ``'randperm'`` (one ``rng.permutation(B)``; an image may meet
            itself).
        rng (np.random.Generator): Source of the permutation.

    Returns:
        Tensor: (B,) int64 indices on the CPU: ``x[index]`` are the partners.
    """
    check_partner_mode('partner_index', partner)
    if partner == 'flip':
        return torch.arange(batch_size - 1, -1, -1)
    return torch.from_numpy(rng.permutation(batch_size)).long()


def mixup(inputs: torch.Tensor, lam: float) -> torch.Tensor:
    """timm's batch Mixup: ``lam * x + (1 - lam) * x.flip(0)``."""
    return lam * inputs + (1 - lam) * inputs.flip(0)


def cutmix(inputs: torch.Tensor, lam: float,
           rng: np.random.Generator) -> Tuple[torch.Tensor, float]:
    """timm's batch CutMix: a :func:`cutmix_box` of the reversed batch pasted
    into every image, and the share the images keep after clipping (timm's
    ``correct_lam``).

    Args:
        inputs (Tensor): (B, C, H, W) images.
        lam (float): The drawn share (before clipping).
        rng (np.random.Generator): Source of the box centre.

    Returns:
        tuple: Mixed images and ``1 - box area / image area``.
    """
    h, w = inputs.shape[-2:]
    top, bottom, left, right = cutmix_box(h, w, lam, rng)
    mixed = inputs.clone()
    mixed[..., top:bottom, left:right] = \
        inputs.flip(0)[..., top:bottom, left:right]
    return mixed, 1 - (bottom - top) * (right - left) / (h * w)
