"""mmsmmix: SMMix and related image-mixing methods for MMPretrain.

Importing the package (``custom_imports=dict(imports=['mmsmmix'])``)
registers its components in MMPretrain's registries and installs the safe
checkpoint loader.
"""
from . import datasets, engine, evaluation, models, ops, utils  # noqa: F401
from .version import __version__

__all__ = ['__version__']
