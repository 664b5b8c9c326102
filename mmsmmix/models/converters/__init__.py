from .official_smmix import convert_official_smmix, load_official_checkpoint

__all__ = ['convert_official_smmix', 'load_official_checkpoint']
