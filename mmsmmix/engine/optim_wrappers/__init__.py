from .bf16_amp_optim_wrapper import BFloat16AmpOptimWrapper

__all__ = ['BFloat16AmpOptimWrapper']
