from .cait import CaiT
from .pvt_v1 import PyramidVisionTransformerV1

__all__ = ['CaiT', 'PyramidVisionTransformerV1']
