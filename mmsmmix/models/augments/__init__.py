from .smmix import SMMix

__all__ = ['SMMix']
