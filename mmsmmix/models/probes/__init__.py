from .base import CAPTURE_BLOCKS, AttentionProbe, AttentionSite
from .builder import build_attention_probe, probe_types
from .record import AttentionRecord

__all__ = ['CAPTURE_BLOCKS', 'AttentionProbe', 'AttentionRecord',
           'AttentionSite', 'build_attention_probe', 'probe_types']


def __getattr__(name):
    if name == 'PROBES':  # deprecated: the registry's probe_types()
        from . import builder
        return builder.PROBES
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
