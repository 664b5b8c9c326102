from .base import (MOTIVATING_DTYPES, MixAugment, MixContext, MixResult,
                   Relabel)
from .fmix import FMix
from .mixpro import MaskMixBatch, MixPro
from .mmpretrain_adapter import MMPretrainAugment
from .rankmixup import RankMixup
from .smmix import SMMix
from .transmix import TransMix

__all__ = [
    'FMix', 'MMPretrainAugment', 'MOTIVATING_DTYPES', 'MaskMixBatch',
    'MixAugment', 'MixContext', 'MixPro', 'MixResult', 'RankMixup',
    'Relabel', 'SMMix', 'TransMix'
]
