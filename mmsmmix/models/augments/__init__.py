from .base import (MOTIVATING_DTYPES, ForwardedMix, MixAugment, MixContext,
                   MixResult, Relabel)
from .fmix import FMix
from .mixpro import MaskMixBatch, MixPro
from .mmpretrain_adapter import MMPretrainAugment
from .rankmixup import RankMixup
from .smmix import SMMix, WindowScores
from .tl_align import TLAlign
from .transmix import TransMix

__all__ = [
    'FMix', 'ForwardedMix', 'MMPretrainAugment', 'MOTIVATING_DTYPES',
    'MaskMixBatch', 'MixAugment', 'MixContext', 'MixPro', 'MixResult',
    'RankMixup', 'Relabel', 'SMMix', 'TransMix', 'WindowScores',
    'TLAlign'
]
