from .checkpoint import load_local_checkpoint
from .random import SyncedRandom

__all__ = ['SyncedRandom', 'load_local_checkpoint']
