"""What an attention probe hands the augments: one captured forward pass."""
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import torch

from mmsmmix.ops import patch_attention_score, window_attention_to_grid


@dataclass
class AttentionRecord:
    """What one captured forward pass saw, with the token layout of the
    block it was read at.

    Attributes:
        attn (Tensor): (B, heads, Q, T) post-softmax probabilities, float32:
            queries by keys, where the T keys are ``num_extra_tokens``
            non-patch tokens (CLS first) then the patches in raster order,
            and Q = T (self-attention) or 1 (a class-attention block). For
            windowed attention (``window`` set) the rows are windows,
            (B*nW, heads, wh*ww, wh*ww) (see
            :func:`mmsmmix.ops.window_token_positions`). A capture with a
            ``reduce`` function holds its result instead.
        num_extra_tokens (int): Tokens before the patches (1 for the CLS).
        grid (tuple[int, int]): Token grid (h, w) at the recorded block.
        patch_size (tuple[int, int]): Token stride (h, w) in pixels at the
            recorded block: the side of the image cell one token stands
            for (16 for DeiT-S, 32 for the last stage of Swin-T or PVT).
        class_token (bool): Whether the backbone has a class token (CaiT
            has one although its self-attention blocks do not see it).
        window (tuple[int, int], optional): Window size (wh, ww) in tokens
            of windowed attention; None for global attention.
        shift (tuple[int, int]): Cyclic shift (rows, cols) of a windowed
            block's grid before its partition; (0, 0) for no shift.
        blocks (list[AttentionRecord]): ``capture(blocks='all')``: one
            record per block, in forward order (the last is this record's
            own reading); empty for ``blocks='last'``.
    """
    attn: Optional[torch.Tensor] = None
    num_extra_tokens: int = 0
    grid: Optional[Tuple[int, int]] = None
    patch_size: Optional[Tuple[int, int]] = None
    class_token: bool = False
    window: Optional[Tuple[int, int]] = None
    shift: Tuple[int, int] = (0, 0)
    blocks: List['AttentionRecord'] = field(default_factory=list)

    def grid_attn(self) -> torch.Tensor:
        """``attn`` as one (B, heads, Q, T) matrix over the grid: windowed
        attention is mapped back (each token attends within its own window,
        0 elsewhere, :func:`mmsmmix.ops.window_attention_to_grid`)."""
        if self.window is None:
            return self.attn
        return window_attention_to_grid(self.attn, self.grid, self.window,
                                        self.shift)

    def scores(self, attn_stat: str) -> torch.Tensor:
        """(B, N) float32 score of each patch token on the grid
        (:func:`mmsmmix.ops.patch_attention_score`). With several windows a
        token is scored by its own window's attention: ``'patch'`` and
        ``'pooled'`` are then the column means of the block-diagonal grid
        matrix (within a window, its column mean times the window's share
        of the queries)."""
        return patch_attention_score(self.grid_attn(), attn_stat,
                                     self.num_extra_tokens)
