"""What an attention probe hands the augments: one captured forward pass."""
from dataclasses import dataclass
from typing import Optional, Tuple

import torch


@dataclass
class AttentionRecord:
    """What one captured forward pass saw.

    Attributes:
        attn (Tensor): (B, heads, Q, T) post-softmax probabilities, float32:
            queries by keys, where the T keys are ``num_extra_tokens``
            non-patch tokens (CLS first) then the patches in raster order,
            and Q = T (self-attention) or 1 (a class-attention block).
        num_extra_tokens (int): Tokens before the patches (1 for the CLS).
        grid (tuple[int, int]): Patch grid (h, w) of that forward pass.
        patch_size (tuple[int, int]): Pixels (h, w) of one token's cell.
    """
    attn: Optional[torch.Tensor] = None
    num_extra_tokens: int = 0
    grid: Optional[Tuple[int, int]] = None
    patch_size: Optional[Tuple[int, int]] = None
