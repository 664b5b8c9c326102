"""Read a backbone's last-block attention probabilities on demand.

MMPretrain's ``VisionTransformer`` computes attention with fused
``scaled_dot_product_attention``, so the probability matrix never exists. The
probe hooks the last block only while :meth:`capture` is active and recomputes
``softmax(q k^T / sqrt(d))`` from that block's own ``qkv`` projection: the
backbone's outputs are unchanged and nothing is paid outside ``capture``.
"""
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Optional, Tuple

import torch
from mmpretrain.models.backbones import VisionTransformer


@dataclass
class AttentionRecord:
    """What one captured forward pass saw.

    Attributes:
        attn (Tensor): (B, heads, T, T) post-softmax probabilities, float32.
        num_extra_tokens (int): Tokens before the patches (1 for the CLS).
        grid (tuple[int, int]): Patch grid (h, w) of that forward pass.
        patch_size (tuple[int, int]): Pixels (h, w) of one token's cell.
    """
    attn: Optional[torch.Tensor] = None
    num_extra_tokens: int = 0
    grid: Optional[Tuple[int, int]] = None
    patch_size: Optional[Tuple[int, int]] = None


class ViTAttentionProbe:
    """Probe for MMPretrain ``VisionTransformer`` (and DeiT subclasses).

    Args:
        backbone (VisionTransformer): The backbone to read.
    """

    def __init__(self, backbone: VisionTransformer):
        self.backbone = backbone

    def configured_layout(
            self) -> Optional[Tuple[AttentionRecord, Tuple[int, int]]]:
        """The token layout the backbone is built for, before any forward.

        Returns:
            tuple | None: An ``AttentionRecord`` without ``attn`` (grid,
            patch size, extra tokens) and the configured input size (h, w);
            None if the backbone was built without a fixed input size.
        """
        patch_embed = self.backbone.patch_embed
        input_size = getattr(patch_embed, 'init_input_size', None)
        grid = getattr(patch_embed, 'init_out_size', None)
        if input_size is None or grid is None:
            return None
        record = AttentionRecord(
            num_extra_tokens=self.backbone.num_extra_tokens,
            grid=tuple(grid),
            patch_size=tuple(patch_embed.projection.stride))
        return record, tuple(input_size)

    @contextmanager
    def capture(self) -> Iterator[AttentionRecord]:
        """Record the last block's attention of forwards run inside."""
        record = AttentionRecord(
            num_extra_tokens=self.backbone.num_extra_tokens,
            patch_size=tuple(self.backbone.patch_embed.projection.stride))
        attn_module = self.backbone.layers[-1].attn

        def on_patch_embed(module, inputs, output):
            record.grid = tuple(output[1])

        def on_attention(module, inputs, output):
            x = inputs[0]
            b, t, _ = x.shape
            qkv = module.qkv(x).reshape(b, t, 3, module.num_heads,
                                        module.head_dims)
            q, k = qkv.float().permute(2, 0, 3, 1, 4)[:2]
            record.attn = (q @ k.transpose(-2, -1) *
                           module.head_dims**-0.5).softmax(dim=-1)

        handles = [
            self.backbone.patch_embed.register_forward_hook(on_patch_embed),
            attn_module.register_forward_hook(on_attention)
        ]
        try:
            yield record
        finally:
            for handle in handles:
                handle.remove()


_PROBES = ((VisionTransformer, ViTAttentionProbe), )


def build_attention_probe(backbone: torch.nn.Module):
    """Return the attention probe that fits ``backbone``.

    Raises:
        TypeError: If no probe can read this backbone's attention.
    """
    for backbone_type, probe_type in _PROBES:
        if isinstance(backbone, backbone_type):
            return probe_type(backbone)
    supported = ', '.join(t.__name__ for t, _ in _PROBES)
    raise TypeError(
        f'model.backbone of type {type(backbone).__name__} has no readable '
        f'attention; attention-guided augments support: {supported}')
