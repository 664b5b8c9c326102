from .ece import ECE

__all__ = ['ECE']
