"""Which probe reads which backbone family: the probes registered in
:data:`mmsmmix.registry.ATTENTION_PROBES`."""
from typing import Tuple, Type

import torch.nn as nn

from mmsmmix.registry import ATTENTION_PROBES
from . import (cait_probe, pvt_probe, pvt_v2_probe, swin_probe,  # noqa: F401
               vit_probe)
from .base import AttentionProbe


def probe_types() -> Tuple[Type[AttentionProbe], ...]:
    """The registered probes, in the order they are asked: the latest
    registered first (a user's probe before ours)."""
    return tuple(reversed(list(ATTENTION_PROBES.module_dict.values())))


def build_attention_probe(backbone: nn.Module) -> AttentionProbe:
    """Return the attention probe that fits ``backbone``: the first of
    :func:`probe_types` that accepts it.

    Raises:
        TypeError: If no probe can read this backbone's attention.
    """
    for probe_type in probe_types():
        if probe_type.accepts(backbone):
            return probe_type(backbone)
    supported = ', '.join(p.__name__ for p in probe_types())
    raise TypeError(
        f'model.backbone of type {type(backbone).__name__} has no readable '
        f'attention; attention-guided augments support the backbones of: '
        f'{supported} (a family of your own: register an AttentionProbe in '
        'mmsmmix.registry.ATTENTION_PROBES)')


def __getattr__(name):
    if name == 'PROBES':  # the fixed table before the registry
        from mmsmmix.utils.moved import warn_moved
        warn_moved('mmsmmix.models.probes.PROBES',
                   'mmsmmix.registry.ATTENTION_PROBES (probe_types())')
        return probe_types()
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
