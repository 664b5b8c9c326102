"""The one probe interface: read a backbone's attention on demand."""
from contextlib import contextmanager
from functools import wraps
from typing import Callable, Iterator, List, Optional, Tuple

import torch
import torch.nn as nn

from .record import AttentionRecord

Hook = Tuple[nn.Module, Callable]


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
    detached attention and adds nothing to the backward. A family
    implements :meth:`accepts`, :meth:`_record` and :meth:`_hooks`, and may
    implement :meth:`configured_layout`.

    Args:
        backbone (nn.Module): The backbone to read.
    """

    def __init__(self, backbone: nn.Module):
        self.backbone = backbone

    @classmethod
    def accepts(cls, backbone: nn.Module) -> bool:
        """Whether this probe can read ``backbone``."""
        raise NotImplementedError

    def configured_layout(
            self) -> Optional[Tuple[AttentionRecord, Tuple[int, int]]]:
        """The token layout the backbone is built for, before any forward.

        Returns:
            tuple | None: An ``AttentionRecord`` without ``attn`` (grid,
            patch size, extra tokens) and the configured input size (h, w);
            None if the backbone has no fixed input size.
        """
        return None

    def _record(self, attn_stat: str) -> AttentionRecord:
        """An empty record for a capture of statistic ``attn_stat``."""
        raise NotImplementedError

    def _hooks(self, record: AttentionRecord, attn_stat: str) -> List[Hook]:
        """(module, forward hook) pairs that fill ``record``."""
        raise NotImplementedError

    @contextmanager
    def capture(self, attn_stat: str = 'patch') -> Iterator[AttentionRecord]:
        """Record the attention of forwards run inside.

        Args:
            attn_stat (str): The statistic it will feed (``'patch'`` or
                ``'cls'``): families whose two statistics live in different
                blocks (CaiT) read the matching one.

        Yields:
            AttentionRecord: Filled by the forward passes run inside.
        """
        record = self._record(attn_stat)
        handles = [
            module.register_forward_hook(_without_grad(hook))
            for module, hook in self._hooks(record, attn_stat)
        ]
        try:
            yield record
        finally:
            for handle in handles:
                handle.remove()
