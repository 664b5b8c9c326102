"""Attention probe for MMPretrain's ``VisionTransformer`` (and DeiT).

MMPretrain's ``VisionTransformer`` computes attention with fused
``scaled_dot_product_attention``, so the probability matrix never exists. The
probe hooks the last block only while :meth:`capture` is active and recomputes
``softmax(q k^T / sqrt(d))`` from that block's own ``qkv`` projection: the
backbone's outputs are unchanged and nothing is paid outside ``capture``.
"""
from typing import List

import torch.nn as nn
from mmpretrain.models.backbones import VisionTransformer

from mmsmmix.ops import attention_probs
from mmsmmix.registry import ATTENTION_PROBES
from .base import AttentionProbe, AttentionSite, Hook
from .record import AttentionRecord


@ATTENTION_PROBES.register_module()
class ViTAttentionProbe(AttentionProbe):
    """Probe for MMPretrain ``VisionTransformer`` (and DeiT subclasses):
    every block's full attention; the last block's serves both statistics.
    """

    @classmethod
    def accepts(cls, backbone: nn.Module) -> bool:
        return isinstance(backbone, VisionTransformer)

    def configured_layout(self):
        patch_embed = self.backbone.patch_embed
        input_size = getattr(patch_embed, 'init_input_size', None)
        grid = getattr(patch_embed, 'init_out_size', None)
        if input_size is None or grid is None:
            return None
        record = self._record('patch')
        record.grid = tuple(grid)
        return record, tuple(input_size)

    def _record(self, attn_stat: str) -> AttentionRecord:
        return AttentionRecord(
            num_extra_tokens=self.backbone.num_extra_tokens,
            patch_size=tuple(self.backbone.patch_embed.projection.stride),
            class_token=bool(self.backbone.cls_token is not None))

    def _layout_hooks(self, record: AttentionRecord) -> List[Hook]:

        def on_patch_embed(module, inputs, output):
            record.grid = tuple(output[1])

        return [(self.backbone.patch_embed, on_patch_embed)]

    def _sites(self, attn_stat: str) -> List[AttentionSite]:

        def read(module, inputs, output, block):
            x = inputs[0]
            b, t, _ = x.shape
            qkv = module.qkv(x).reshape(b, t, 3, module.num_heads,
                                        module.head_dims)
            q, k = qkv.permute(2, 0, 3, 1, 4)[:2]
            return attention_probs(q, k, module.head_dims**-0.5)

        return [AttentionSite(layer.attn, read)
                for layer in self.backbone.layers]
