"""Attention probe for PVT-v1: the last block of stage 4."""
from typing import List

import torch.nn as nn

from mmsmmix.models.backbones import PyramidVisionTransformerV1
from mmsmmix.ops import attention_probs
from mmsmmix.registry import ATTENTION_PROBES
from .base import AttentionProbe, AttentionSite
from .record import AttentionRecord


@ATTENTION_PROBES.register_module()
class PVTAttentionProbe(AttentionProbe):
    """Reads the stage-4 blocks of :class:`PyramidVisionTransformerV1` (a
    single-block capture: the last),
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
        return AttentionRecord(num_extra_tokens=1, patch_size=(size, size),
                               class_token=True)

    def _sites(self, attn_stat: str) -> List[AttentionSite]:
        """The stage-4 blocks (the only stage with the class token and
        full attention)."""

        def read(module, inputs, output, block):
            x, h, w = inputs
            q = module.split_heads(module.q(x))
            k, _ = module.keys_values(x, h, w)
            block.grid = (h, w)
            return attention_probs(q, k, module.scale)

        return [AttentionSite(blk.attn, read) for blk in self.backbone.block4]
