from .checkpoint import (CheckpointFileError, CheckpointMismatchError,
                         check_checkpoint_fits, load_local_checkpoint,
                         load_weights)
from .checks import check_finite_positive
from .dist import finish_distributed
from .random import SyncedRandom, global_rng_state, set_global_rng_state

__all__ = [
    'CheckpointFileError', 'CheckpointMismatchError', 'SyncedRandom',
    'check_checkpoint_fits', 'check_finite_positive', 'finish_distributed', 'global_rng_state',
    'load_local_checkpoint', 'load_weights', 'set_global_rng_state'
]
