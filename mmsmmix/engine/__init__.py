from .hooks import RandomStateHook
from .optim_wrappers import BFloat16AmpOptimWrapper

__all__ = ['BFloat16AmpOptimWrapper', 'RandomStateHook']
