from .fmix import FMix
from .mixpro import MixPro
from .rankmixup import RankMixup
from .smmix import SMMix
from .transmix import TransMix

__all__ = ['FMix', 'MixPro', 'RankMixup', 'SMMix', 'TransMix']
