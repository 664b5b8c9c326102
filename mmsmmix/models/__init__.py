"""Registered model components (MMPretrain registries)."""
from .augments import SMMix
from .classifiers import MixImageClassifier
from .heads import SMMixClsHead
from .losses import SMMixConsistencyLoss

__all__ = [
    'SMMix', 'MixImageClassifier', 'SMMixClsHead', 'SMMixConsistencyLoss'
]
