from .compiled_forward import CompiledForward, compile_forwards
from .hooks import CompileHook, RandomStateHook
from .optim_wrappers import BFloat16AmpOptimWrapper

__all__ = [
    'BFloat16AmpOptimWrapper', 'CompileHook', 'CompiledForward',
    'RandomStateHook', 'compile_forwards'
]
