from .fmix import FMix
from .smmix import SMMix
from .transmix import TransMix

__all__ = ['FMix', 'SMMix', 'TransMix']
