"""Registered model components (MMPretrain registries)."""
from .augments import SMMix
from .backbones import CaiT, PyramidVisionTransformerV1
from .classifiers import MixImageClassifier
from .heads import SMMixClsHead
from .losses import SMMixConsistencyLoss

__all__ = [
    'CaiT', 'SMMix', 'MixImageClassifier', 'PyramidVisionTransformerV1',
    'SMMixClsHead', 'SMMixConsistencyLoss'
]
