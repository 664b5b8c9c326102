"""Registered model components (MMPretrain registries)."""
from .augments import FMix, MixPro, SMMix, TransMix
from .backbones import CaiT, PyramidVisionTransformerV1
from .classifiers import MixImageClassifier
from .heads import SMMixClsHead
from .losses import DecoupledMixupLoss, SMMixConsistencyLoss

__all__ = [
    'CaiT', 'DecoupledMixupLoss', 'FMix', 'MixImageClassifier', 'MixPro',
    'PyramidVisionTransformerV1', 'SMMix', 'SMMixClsHead',
    'SMMixConsistencyLoss', 'TransMix'
]
