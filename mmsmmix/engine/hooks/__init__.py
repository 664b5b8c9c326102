from .compile_hook import CompileHook
from .random_state_hook import RandomStateHook

__all__ = ['CompileHook', 'RandomStateHook']
