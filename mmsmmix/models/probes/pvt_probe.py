"""Attention probe for PVT-v1: the last block of stage 4."""
from typing import List

import torch.nn as nn

from mmsmmix.models.backbones import PyramidVisionTransformerV1
from mmsmmix.ops import attention_probs
from mmsmmix.registry import ATTENTION_PROBES
from .base import AttentionProbe, Hook
from .record import AttentionRecord


@ATTENTION_PROBES.register_module()
class PVTAttentionProbe(AttentionProbe):
    """Reads the last stage-4 block of :class:`PyramidVisionTransformerV1`,
    as the official SMMix code does: ``sr_ratio`` is 1 there, so the
    attention is a full (1 + N) x (1 + N) matrix over the class token and
    the 7 x 7 grid (at 224 px) of 32-pixel cells. It is recomputed from the
    block's own ``q`` and ``kv`` projections.
    """

    @classmethod
    def accepts(cls, backbone: nn.Module) -> bool:
        return isinstance(backbone, PyramidVisionTransformerV1)

    def configured_layout(self):
        record = self._record('patch')
        grid = self.backbone.img_size // self.backbone.patch_size
        record.grid = (grid, grid)
        return record, (self.backbone.img_size, self.backbone.img_size)

    def _record(self, attn_stat: str) -> AttentionRecord:
        size = self.backbone.patch_size
        return AttentionRecord(num_extra_tokens=1, patch_size=(size, size))

    def _hooks(self, record: AttentionRecord, attn_stat: str) -> List[Hook]:

        def on_attention(module, inputs, output):
            x, h, w = inputs
            q = module.split_heads(module.q(x))
            k, _ = module.keys_values(x, h, w)
            record.attn = attention_probs(q, k, module.scale)
            record.grid = (h, w)

        return [(self.backbone.block4[-1].attn, on_attention)]
