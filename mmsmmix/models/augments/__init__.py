from .fmix import FMix
from .smmix import SMMix

__all__ = ['FMix', 'SMMix']
