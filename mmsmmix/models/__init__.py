"""Registered model components (MMPretrain registries)."""
from .augments import FMix, MixPro, RankMixup, SMMix, TransMix
from .backbones import CaiT, PyramidVisionTransformerV1
from .builder import build_config_model
from .classifiers import MixImageClassifier
from .heads import SMMixClsHead
from .losses import DecoupledMixupLoss, RankMixupLoss, SMMixConsistencyLoss

__all__ = [
    'CaiT', 'DecoupledMixupLoss', 'FMix', 'MixImageClassifier', 'MixPro',
    'PyramidVisionTransformerV1', 'RankMixup', 'RankMixupLoss', 'SMMix',
    'SMMixClsHead', 'SMMixConsistencyLoss', 'TransMix', 'build_config_model'
]
