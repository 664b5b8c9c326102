from .cait import CaiT
from .pvt_v1 import PyramidVisionTransformerV1
from .pvt_v2 import PyramidVisionTransformerV2

__all__ = ['CaiT', 'PyramidVisionTransformerV1', 'PyramidVisionTransformerV2']
