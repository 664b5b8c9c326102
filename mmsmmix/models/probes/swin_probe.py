"""Attention probe for MMPretrain's ``SwinTransformer`` and
``SwinTransformerV2``: the windowed attention each block applied."""
from typing import List, Optional, Tuple

import torch.nn as nn
from mmpretrain.models.backbones import SwinTransformer, SwinTransformerV2

from mmsmmix.registry import ATTENTION_PROBES
from .base import AttentionProbe, AttentionSite, sampled_size
from .record import AttentionRecord


def _merged_size(merge: nn.Module, hw: Tuple[int, int]) -> Tuple[int, int]:
    """The grid after a ``PatchMerging`` (mmcv's or MMPretrain's), by its
    own arithmetic: adaptive padding, then the unfold's output size."""
    h, w = hw
    if getattr(merge, 'adaptive_padding', None):
        pad_h, pad_w = merge.adaptive_padding.get_pad_shape((h, w))
        h, w = h + pad_h, w + pad_w
    return sampled_size(merge.sampler, (h, w))


def window_layout(attn: nn.Module,
                  hw: Tuple[int, int]) -> Tuple[int, int]:
    """(window, shift) a ``ShiftWindowMSA`` uses on an (H, W) grid, by the
    rules of its ``forward`` (MMPretrain 1.2.0): the shift is forced to 0
    when ``min(H, W) == window`` unless ``pad_small_map``; a smaller grid
    needs ``pad_small_map`` (else the forward asserts) and is padded to the
    window, which never shrinks."""
    window, shift = attn.window_size, attn.shift_size
    if min(hw) == window and not attn.pad_small_map:
        shift = 0
    return window, shift


@ATTENTION_PROBES.register_module()
class SwinAttentionProbe(AttentionProbe):
    """Reads MMPretrain's :class:`SwinTransformer` and
    :class:`SwinTransformerV2`: the post-softmax attention of every block,
    as the block applied it (relative position bias, or V2's cosine logits
    and continuous bias, and the shift mask included).

    Each site is a block's ``attn`` (``ShiftWindowMSA``); a feeder hook on
    its ``w_msa.softmax`` puts the (B*nW, heads, w², w²) map into one slot
    (shared by all blocks, so a ``reduce``d all-block capture holds no full
    map) which the block's reading takes with the grid, stride, window and
    shift the block used. No class token, no extra tokens.

    A single-block capture reads the last stage's last block. Swin-T at 224:
    a 7 x 7 grid of 32-pixel cells, one 7 x 7 window and no shift (forced
    off as the grid equals the window), i.e. full 49-token attention,
    (B, 24, 49, 49). With several last-stage windows (Swin-T at 448: a
    14 x 14 grid, 4 windows, and the last block shifts by 3) the record
    holds (B*4, 24, 49, 49); ``record.scores()`` maps the windows to the
    grid (:func:`mmsmmix.ops.window_attention_to_grid`), so each token is
    scored by its own window's attention: its column mean within its window
    times the window's share of the queries (49 / 196). With
    ``pad_small_map`` the padding tokens are keys MMPretrain does not mask:
    the record keeps them, ``grid_attn()`` drops them.

    ``with_cp``: a checkpointed block re-runs in the backward (a capture
    kept open over ``backward()``), firing the hooks again. The softmax is
    stashed only inside the backbone's own forward (between its patch
    embedding and its end), and a block that stashed nothing is not read,
    so those re-runs leave the record as the forward made it.
    """

    @classmethod
    def accepts(cls, backbone: nn.Module) -> bool:
        return isinstance(backbone, (SwinTransformer, SwinTransformerV2))

    def _stages(self) -> List[Tuple[nn.Module, Tuple[int, int],
                                    Optional[Tuple[int, int]]]]:
        """(stage, token stride, configured grid or None) in forward order.
        V1 merges after a stage's blocks, V2 before them."""
        embed = self.backbone.patch_embed
        stride = tuple(embed.projection.stride)
        grid = getattr(embed, 'init_out_size', None)
        merge_first = isinstance(self.backbone, SwinTransformerV2)
        stages = []
        for stage in self.backbone.stages:
            merge = stage.downsample
            if merge is not None and merge_first:
                stride, grid = self._merge(merge, stride, grid)
            stages.append((stage, stride, grid))
            if merge is not None and not merge_first:
                stride, grid = self._merge(merge, stride, grid)
        return stages

    @staticmethod
    def _merge(merge, stride, grid):
        stride = tuple(a * b for a, b in zip(stride, merge.sampler.stride))
        return stride, None if grid is None else _merged_size(merge, grid)

    def configured_layout(self):
        stage, stride, grid = self._stages()[-1]
        input_size = getattr(self.backbone.patch_embed, 'init_input_size',
                             None)
        if grid is None or input_size is None:
            return None
        window, shift = window_layout(stage.blocks[-1].attn, grid)
        record = self._record('patch')
        record.grid, record.patch_size = tuple(grid), stride
        record.window, record.shift = (window, window), (shift, shift)
        return record, tuple(input_size)

    def _record(self, attn_stat: str) -> AttentionRecord:
        return AttentionRecord(num_extra_tokens=0,
                               patch_size=self._stages()[-1][1],
                               class_token=False)

    def _sites(self, attn_stat: str) -> List[AttentionSite]:
        """Every block of every stage, in forward order."""
        slot = {}  # the softmax output of the block now running
        live = [False]  # inside the backbone's forward (not a cp re-run)

        def start(module, inputs, output):
            live[0] = True

        def end(module, inputs, output):
            live[0] = False
            slot.clear()

        def stash(module, inputs, output):
            if live[0]:
                slot['attn'] = output

        def reader(stride):

            def read(module, inputs, output, block):
                if 'attn' not in slot:  # a with_cp re-run: not read
                    return None
                h, w = inputs[1]
                window, shift = window_layout(module, (h, w))
                block.grid, block.patch_size = (h, w), stride
                block.window, block.shift = (window, window), (shift, shift)
                return slot.pop('attn').detach().float()

            return read

        sites = [
            AttentionSite(blk.attn, reader(stride),
                          [(blk.attn.w_msa.softmax, stash)])
            for stage, stride, _ in self._stages() for blk in stage.blocks
        ]
        sites[-1].feeders += [(self.backbone.patch_embed, start),
                              (self.backbone, end)]
        return sites
