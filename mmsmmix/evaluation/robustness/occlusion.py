"""Patch occlusion: which patches to drop, and dropping them.

Plain torch, no registry. A patch grid of ``gh x gw`` cells covers the image;
patches are numbered in raster order (row by row), as ViT tokens are. An
image's *drop order* ranks its N patches; occluding a share ``r`` drops the
first ``round(r * N)`` of them, so the masks of growing ratios are nested.
"""
from typing import Optional, Sequence, Tuple

import torch

ORDER_MODES = ('random', 'attention')


def patch_order(scores: Optional[torch.Tensor] = None,
                batch_size: Optional[int] = None,
                num_patches: Optional[int] = None,
                generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Rank each image's patches in the order they are to be dropped.

    Args:
        scores (Tensor, optional): (B, N) patch scores; the highest-scored
            patch comes first (ties in raster order). None: a random order
            per image.
        batch_size (int, optional): B, needed when ``scores`` is None.
        num_patches (int, optional): N, needed when ``scores`` is None.
        generator (torch.Generator, optional): CPU generator of the random
            order.

    Returns:
        Tensor: (B, N) int64 patch indices, on the device of ``scores``
        (CPU for a random order).
    """
    if scores is not None:
        if scores.dim() != 2:
            raise ValueError('scores must have shape (B, N), got '
                             f'{tuple(scores.shape)}')
        return scores.float().argsort(dim=1, descending=True, stable=True)
    if batch_size is None or num_patches is None:
        raise ValueError('a random order needs batch_size and num_patches')
    return torch.rand(batch_size, num_patches, generator=generator).argsort(
        dim=1)


def num_dropped(ratio: float, num_patches: int) -> int:
    """Patches dropped at ``ratio``: ``round(ratio * num_patches)``.

    Args:
        ratio (float): Share of patches to drop, in [0, 1].
        num_patches (int): Patches per image.

    Returns:
        int: Python's ``round`` (halves to even) of ``ratio * num_patches``.
    """
    if not 0 <= ratio <= 1:
        raise ValueError(f'occlusion ratio must be in [0, 1], got {ratio}')
    return round(ratio * num_patches)


def occlusion_mask(order: torch.Tensor, ratio: float) -> torch.Tensor:
    """Mark the first ``round(ratio * N)`` patches of each order as dropped.

    Args:
        order (Tensor): (B, N) drop order from :func:`patch_order`.
        ratio (float): Share of patches to drop, in [0, 1].

    Returns:
        Tensor: (B, N) bool, True where a patch is dropped; exactly
        ``round(ratio * N)`` per row.
    """
    k = num_dropped(ratio, order.shape[1])
    mask = torch.zeros(order.shape, dtype=torch.bool, device=order.device)
    return mask.scatter_(1, order[:, :k], True)


def cell_index(size: int, cells: int,
               patch: Optional[int] = None) -> torch.Tensor:
    """The grid cell of each pixel along one image axis.

    Args:
        size (int): Pixels along the axis.
        cells (int): Grid cells along the axis.
        patch (int, optional): Pixels per cell (a ViT's patch size): cell
            ``i`` covers ``[i*patch, (i+1)*patch)``, pixels past the last
            cell (cropped by the patch embedding) joining the last one.
            None: the axis is split into ``cells`` near-equal parts.

    Returns:
        Tensor: (size, ) int64 cell indices in ``[0, cells)``.
    """
    pixels = torch.arange(size)
    if patch is None:
        return pixels * cells // size
    return (pixels // patch).clamp(max=cells - 1)


def occlude(images: torch.Tensor,
            mask: torch.Tensor,
            grid: Tuple[int, int],
            patch_size: Optional[Sequence[int]] = None,
            value: float = 0.) -> torch.Tensor:
    """Set the pixels of dropped patches to ``value``.

    Args:
        images (Tensor): (B, C, H, W) images (normalised: 0 is the mean).
        mask (Tensor): (B, gh*gw) bool, True for dropped patches (raster
            order).
        grid (tuple[int, int]): Grid (gh, gw).
        patch_size (Sequence[int], optional): Pixels (ph, pw) per cell, see
            :func:`cell_index`; None splits the image evenly.
        value (float): Fill value. Defaults to 0.

    Returns:
        Tensor: (B, C, H, W) occluded copy of ``images``.
    """
    gh, gw = grid
    b, _, h, w = images.shape
    if mask.shape != (b, gh * gw):
        raise ValueError(f'mask must have shape ({b}, {gh * gw}), got '
                         f'{tuple(mask.shape)}')
    ph, pw = patch_size if patch_size is not None else (None, None)
    rows = cell_index(h, gh, ph).to(images.device)
    cols = cell_index(w, gw, pw).to(images.device)
    cells = (rows[:, None] * gw + cols[None, :]).flatten()  # (H*W, )
    pixel_mask = mask.to(images.device)[:, cells].view(b, 1, h, w)
    return images.masked_fill(pixel_mask, value)
