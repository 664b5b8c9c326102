"""The probe table: which probe reads which backbone family."""
import torch.nn as nn

from .base import AttentionProbe
from .cait_probe import CaiTAttentionProbe
from .pvt_probe import PVTAttentionProbe
from .vit_probe import ViTAttentionProbe

PROBES = (ViTAttentionProbe, CaiTAttentionProbe, PVTAttentionProbe)


def build_attention_probe(backbone: nn.Module) -> AttentionProbe:
    """Return the attention probe that fits ``backbone``.

    Raises:
        TypeError: If no probe can read this backbone's attention.
    """
    for probe_type in PROBES:
        if probe_type.accepts(backbone):
            return probe_type(backbone)
    supported = ', '.join(p.__name__ for p in PROBES)
    raise TypeError(
        f'model.backbone of type {type(backbone).__name__} has no readable '
        f'attention; attention-guided augments support the backbones of: '
        f'{supported}')
