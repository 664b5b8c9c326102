"""Attention probe for PVT-v2 (Wang et al., CVMJ 2022; timm's model): the
last stage's blocks.

timm computes PVT-v2's attention with fused
``scaled_dot_product_attention``, so no probability matrix exists. While
:meth:`~AttentionProbe.capture` is active a forward hook on each block's
``attn`` (inputs ``(x_normed, feat_size)``) recomputes
``softmax(q k^T * scale)`` from that module's own ``q``, ``kv`` (and, for
the linear variant, ``pool``/``sr``/``norm``/``act``) layers; outside a
capture the backbone is untouched.
"""
from typing import List

import torch.nn as nn

from mmsmmix.models.backbones import PyramidVisionTransformerV2
from mmsmmix.ops import attention_probs
from mmsmmix.registry import ATTENTION_PROBES
from .base import AttentionProbe, AttentionSite, sampled_size
from .record import AttentionRecord


def _keys(attn: nn.Module, x, feat_size):
    """(B, heads, T, d) keys of timm's ``Attention`` as its forward makes
    them: from the tokens (sr 1), the strided-conv reduced grid (sr > 1) or
    the 7x7-pooled, 1x1-conv, LayerNorm, GELU grid (linear SRA)."""
    b, n, c = x.shape
    if attn.pool is not None or attn.sr is not None:
        x = x.transpose(1, 2).reshape(b, c, *feat_size)
        if attn.pool is not None:
            x = attn.pool(x)
        x = attn.norm(attn.sr(x).flatten(2).transpose(1, 2))
        if attn.act is not None:
            x = attn.act(x)
    kv = attn.kv(x).reshape(b, -1, 2, attn.num_heads, attn.head_dim)
    return kv[:, :, 0].transpose(1, 2)


@ATTENTION_PROBES.register_module()
class PVTv2AttentionProbe(AttentionProbe):
    """Reads the last stage of :class:`PyramidVisionTransformerV2` (a
    single-block capture: its last block).

    There ``sr_ratio`` is 1 (b0-b5), so each of the N = 7 x 7 tokens (at
    224 px, 32-px cells) attends to all N: a full (B, heads, N, N) matrix,
    no class token. In the linear variant (b2_li) keys and values always
    come from a 7 x 7 adaptive pool, a 1x1 conv, LayerNorm and GELU: on a
    7 x 7 last stage the pool is the identity, so the keys are still the N
    tokens in raster order (transformed). Only the last stage is a site,
    also for ``blocks='all'``: stages 1-3 attend from their queries to
    spatially reduced (or 49 pooled) keys, a non-square matrix whose keys
    are not the patch tokens, which neither the record's layout nor the
    patch statistics describe.

    A last stage whose keys are not its tokens (``sr_ratio > 1``, or the
    linear variant on a grid other than 7 x 7) is refused with a
    ValueError when captured.
    """

    @classmethod
    def accepts(cls, backbone: nn.Module) -> bool:
        return isinstance(backbone, PyramidVisionTransformerV2)

    def configured_layout(self):
        """The last stage's grid at the wrapper's ``img_size`` (7 x 7 at
        224 px), by the stem's and each stage's overlapping patch
        embedding (strided convolutions); None without an ``img_size``."""
        size = self.backbone.img_size
        if size is None:
            return None
        model = self.backbone.model
        convs = [model.patch_embed.proj] + [
            stage.downsample.proj for stage in model.stages
            if stage.downsample is not None
        ]
        grid = size
        for conv in convs:
            grid = sampled_size(conv, grid)
        record = self._record('patch')
        record.grid = grid
        return record, size

    def _record(self, attn_stat: str) -> AttentionRecord:
        stride = self.backbone.model.feature_info[-1]['reduction']
        return AttentionRecord(num_extra_tokens=0,
                               patch_size=(stride, stride),
                               class_token=False)

    def _sites(self, attn_stat: str) -> List[AttentionSite]:
        """The last stage's blocks."""
        stage = self.backbone.model.stages[-1]
        if stage.blocks[0].attn.pool is None and \
                stage.blocks[0].attn.sr is not None:
            raise ValueError(
                'PVTv2AttentionProbe reads full token attention, but the '
                'last stage of this PyramidVisionTransformerV2 has '
                'sr_ratio > 1 (keys from a reduced grid); set its last '
                'sr_ratios entry to 1')

        def read(module, inputs, output, block):
            x, feat_size = inputs
            b, n, _ = x.shape
            q = module.q(x).reshape(b, n, module.num_heads,
                                    module.head_dim).transpose(1, 2)
            pooled = module.pool.output_size if module.pool else None
            if pooled is not None and tuple(feat_size) != (pooled, pooled):
                raise ValueError(
                    f'PVTv2AttentionProbe: the linear-SRA last stage pools '
                    f'its {tuple(feat_size)} grid to {pooled}x{pooled} '
                    f'keys, so its attention is not token to token; use an '
                    f'input size that gives a {pooled}x{pooled} last stage '
                    f'(224 px for four stages)')
            k = _keys(module, x, feat_size)
            block.grid = (int(feat_size[0]), int(feat_size[1]))
            return attention_probs(q, k, module.scale)

        return [AttentionSite(blk.attn, read) for blk in stage.blocks]
