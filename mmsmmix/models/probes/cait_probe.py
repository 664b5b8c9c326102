"""Attention probe for CaiT: each statistic from the block that has it."""
from typing import List

import torch.nn as nn

from mmsmmix.models.backbones import CaiT
from mmsmmix.ops import attention_probs
from mmsmmix.registry import ATTENTION_PROBES
from .base import AttentionProbe, AttentionSite, Hook
from .record import AttentionRecord


@ATTENTION_PROBES.register_module()
class CaiTAttentionProbe(AttentionProbe):
    """Reads :class:`CaiT` (timm's model).

    CaiT's self-attention blocks hold no class token, and its class token
    only appears in the class-attention blocks, so the two statistics come
    from different blocks (no official SMMix code exists for CaiT; this is
    our reading of the method):

    - ``attn_stat='patch'``: the last self-attention block's talking-heads
      attention after the softmax and the post-softmax head mixing (the
      matrix that multiplies the values), (B, heads, N, N), no extra token;
    - ``attn_stat='cls'``: the last class-attention block's class-to-token row,
      (B, heads, 1, 1 + N), recomputed from its ``q``/``k`` (timm fuses it).
    """

    @classmethod
    def accepts(cls, backbone: nn.Module) -> bool:
        return isinstance(backbone, CaiT)

    def configured_layout(self):
        embed = self.backbone.model.patch_embed
        record = self._record('patch')
        record.grid = tuple(embed.grid_size)
        return record, tuple(embed.img_size)

    def _record(self, attn_stat: str) -> AttentionRecord:
        return AttentionRecord(
            num_extra_tokens=int(attn_stat == 'cls'),
            patch_size=tuple(self.backbone.model.patch_embed.patch_size),
            class_token=True)

    def _layout_hooks(self, record: AttentionRecord) -> List[Hook]:

        def on_patch_embed(module, inputs, output):
            h, w = inputs[0].shape[-2:]
            record.grid = (h // module.patch_size[0],
                           w // module.patch_size[1])

        return [(self.backbone.model.patch_embed, on_patch_embed)]

    def _sites(self, attn_stat: str) -> List[AttentionSite]:
        """``'cls'``: the class-attention blocks; otherwise the
        self-attention blocks."""
        model = self.backbone.model

        def read_mixed(module, inputs, output, block):
            return inputs[0].detach().float()  # attn_drop's input

        def read_class(module, inputs, output, block):
            x = inputs[0]
            b, t, c = x.shape
            heads = module.num_heads
            q = module.q(x[:, :1]).reshape(b, 1, heads, c // heads)
            k = module.k(x).reshape(b, t, heads, c // heads)
            return attention_probs(q.transpose(1, 2), k.transpose(1, 2),
                                   module.scale)

        if attn_stat == 'cls':
            return [AttentionSite(blk.attn, read_class)
                    for blk in model.blocks_token_only]
        return [AttentionSite(blk.attn.attn_drop, read_mixed)
                for blk in model.blocks]
