from .base import AttentionProbe
from .builder import PROBES, build_attention_probe
from .record import AttentionRecord

__all__ = ['AttentionProbe', 'AttentionRecord', 'PROBES',
           'build_attention_probe']
