from .checkpoint import (CheckpointFileError, CheckpointMismatchError,
                         check_checkpoint_fits, load_local_checkpoint,
                         load_weights)
from .checks import check_finite_positive
from .data_paths import DataPathError, check_data_paths
from .dist import finish_distributed, init_cpu_processes
from .random import (SyncedRandom, global_rng_state, seeded_global_generators,
                     set_global_rng_state)

__all__ = [
    'CheckpointFileError', 'CheckpointMismatchError', 'DataPathError',
    'SyncedRandom', 'check_checkpoint_fits', 'check_data_paths',
    'check_finite_positive', 'finish_distributed', 'global_rng_state',
    'init_cpu_processes', 'load_local_checkpoint', 'load_weights',
    'seeded_global_generators', 'set_global_rng_state'
]
