from .fmix import FMix
from .mixpro import MixPro
from .smmix import SMMix
from .transmix import TransMix

__all__ = ['FMix', 'MixPro', 'SMMix', 'TransMix']
