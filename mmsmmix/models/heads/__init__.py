from .smmix_head import SMMixClsHead

__all__ = ['SMMixClsHead']
