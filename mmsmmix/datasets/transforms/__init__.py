from .corrupt import Corrupt

__all__ = ['Corrupt']
