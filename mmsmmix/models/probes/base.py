"""The one probe interface: read a backbone's attention on demand."""
import dataclasses
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import wraps
from typing import Callable, Iterator, List, Optional, Tuple

import torch
import torch.nn as nn

from .record import AttentionRecord

Hook = Tuple[nn.Module, Callable]
#: ``reduce(attn, block) -> Tensor``: what a capture keeps of a block's
#: (B, heads, Q, T) attention, given the block's record (its layout).
Reduce = Callable[[torch.Tensor, AttentionRecord], torch.Tensor]
#: Which blocks a capture records.
CAPTURE_BLOCKS = ('last', 'all')


@dataclass
class AttentionSite:
    """One attention block a probe can read.

    Attributes:
        module (nn.Module): The module whose forward hook reads it.
        read (Callable): ``read(module, inputs, output, block) -> attn``:
            the (B, heads, Q, T) float32 post-softmax attention of that
            forward, or None where the call is not one to read (Swin: a
            checkpointed block re-run in the backward). ``block`` is a
            record holding the layout known so far (grid from the patch
            embedding, extra tokens ...); ``read`` sets what is the block's
            own (Swin: grid, stride, window, shift).
        feeders (list): (module, forward hook) pairs registered with the
            site and only with it, e.g. on an inner module whose output
            ``read`` takes (Swin: the block's softmax). They run before
            ``module``'s own hook.
    """
    module: nn.Module
    read: Callable[[nn.Module, tuple, object, AttentionRecord],
                   torch.Tensor]
    feeders: List[Hook] = field(default_factory=list)


def sampled_size(sampler: nn.Module,
                 hw: Tuple[int, int]) -> Tuple[int, int]:
    """The (h, w) output of a strided sampler (``nn.Conv2d`` or
    ``nn.Unfold``) on an (h, w) input, by its own kernel, stride, padding
    and dilation: how a probe computes a stage's grid before any forward."""

    def pair(value):
        return tuple(value) if isinstance(value, (tuple, list)) else (
            value, value)

    kernel, stride = pair(sampler.kernel_size), pair(sampler.stride)
    padding, dilation = pair(sampler.padding), pair(sampler.dilation)
    return tuple((n + 2 * padding[i] - dilation[i] * (kernel[i] - 1) - 1) //
                 stride[i] + 1 for i, n in enumerate(hw))


def _without_grad(hook: Callable) -> Callable:
    """Run a recording hook outside autograd: what it records is a detached
    reading, also when the forward it watches trains the model."""

    @wraps(hook)
    def run(module, inputs, output):
        with torch.no_grad():
            hook(module, inputs, output)

    return run


class AttentionProbe:
    """Base of the per-family probes.

    A probe registers forward hooks only while :meth:`capture` is active, so
    the backbone's outputs and cost are unchanged outside it. The hooks run
    without autograd, so a capture around a training forward records
    detached attention and adds nothing to the backward.

    A family (registered in :data:`mmsmmix.registry.ATTENTION_PROBES`)
    implements :meth:`accepts`, :meth:`_record` (the layout every block
    shares: extra tokens, class token, stride) and :meth:`_sites` (its
    attention blocks in forward order), and may implement
    :meth:`_layout_hooks` (e.g. the grid from the patch embedding) and
    :meth:`configured_layout`.

    Args:
        backbone (nn.Module): The backbone to read.
    """

    def __init__(self, backbone: nn.Module):
        self.backbone = backbone

    @classmethod
    def accepts(cls, backbone: nn.Module) -> bool:
        """Whether this probe can read ``backbone``."""
        raise NotImplementedError

    @property
    def class_token(self) -> bool:
        """Whether the backbone has a class token."""
        return self._record('patch').class_token

    def configured_layout(
            self) -> Optional[Tuple[AttentionRecord, Tuple[int, int]]]:
        """The token layout the backbone is built for, before any forward.

        Returns:
            tuple | None: An ``AttentionRecord`` without ``attn`` (grid,
            token stride, extra tokens, class token, window) of the block
            a single-block capture reads, and the configured input size
            (h, w); None if the backbone has no fixed input size.
        """
        return None

    def _record(self, attn_stat: str) -> AttentionRecord:
        """An empty record for a capture of statistic ``attn_stat``."""
        raise NotImplementedError

    def _sites(self, attn_stat: str) -> List[AttentionSite]:
        """The attention blocks a capture for ``attn_stat`` may read, in
        forward order; a single-block capture reads the last."""
        raise NotImplementedError

    def _layout_hooks(self, record: AttentionRecord) -> List[Hook]:
        """(module, forward hook) pairs that fill the layout of ``record``
        before the blocks run (e.g. its grid). None by default."""
        return []

    @contextmanager
    def capture(self,
                attn_stat: str = 'patch',
                blocks: str = 'last',
                reduce: Optional[Reduce] = None
                ) -> Iterator[AttentionRecord]:
        """Record the attention of forwards run inside.

        Args:
            attn_stat (str): The statistic it will feed (``'patch'``,
                ``'cls'``, ``'pooled'``): families whose statistics live in
                different blocks (CaiT) read the matching ones.
            blocks (str): ``'last'`` (the block the statistic is read at)
                or ``'all'`` (every block of :meth:`_sites`, one record each
                in ``record.blocks``; the record itself is the last's).
            reduce (Callable, optional): ``reduce(attn, block)`` computed
                as each block runs, kept instead of its full attention (e.g.
                :func:`mmsmmix.ops.head_mean`), so that an all-block
                capture holds only the reduced tensors.

        Yields:
            AttentionRecord: Filled by the forward passes run inside.
        """
        if blocks not in CAPTURE_BLOCKS:
            raise ValueError(f'capture blocks must be one of '
                             f'{CAPTURE_BLOCKS}, got {blocks!r}')
        record = self._record(attn_stat)
        sites = self._sites(attn_stat)
        if blocks == 'last':
            sites = sites[-1:]
        hooks = self._layout_hooks(record)
        for i, site in enumerate(sites):
            hooks += site.feeders + [
                (site.module,
                 self._reader(site, record, blocks, reduce, first=i == 0))
            ]
        handles = [
            module.register_forward_hook(_without_grad(hook))
            for module, hook in hooks
        ]
        try:
            yield record
        finally:
            for handle in handles:
                handle.remove()

    @staticmethod
    def _reader(site: AttentionSite, record: AttentionRecord, blocks: str,
                reduce: Optional[Reduce], first: bool) -> Callable:
        """The forward hook of ``site``: reads its attention into a block
        record and copies that into ``record`` (the first site of an
        all-block capture starts a new forward's list)."""

        def hook(module, inputs, output):
            block = dataclasses.replace(record, attn=None, blocks=[])
            attn = site.read(module, inputs, output, block)
            if attn is None:  # nothing to read in this call
                return
            if blocks == 'all' and first:
                record.blocks.clear()
            block.attn = attn if reduce is None else reduce(attn, block)
            for name in _BLOCK_FIELDS:
                setattr(record, name, getattr(block, name))
            if blocks == 'all':
                record.blocks.append(block)

        return hook


#: The fields a block's reading sets on the capture's record.
_BLOCK_FIELDS = ('attn', 'grid', 'patch_size', 'window', 'shift',
                 'num_extra_tokens')
