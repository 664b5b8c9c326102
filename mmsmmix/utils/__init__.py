from .checkpoint import (CheckpointFileError, CheckpointMismatchError,
                         CheckpointNotFoundError, check_checkpoint_file,
                         check_checkpoint_fits, count_numbered,
                         describe_mismatch, load_local_checkpoint,
                         load_weights)
from .checks import check_finite_positive
from .data_paths import DataPathError, check_data_paths
from .dist import finish_distributed, free_port, init_cpu_processes
from .errors import USER_ERROR_EXIT, UserError
from .markdown import markdown_table
from .preflight import (ConfigError, check_cfg_options, check_eval_split,
                        check_registered_types, preflight)
from .random import (SyncedRandom, global_rng_state, seeded_global_generators,
                     set_global_rng_state)

__all__ = [
    'CheckpointFileError', 'CheckpointMismatchError',
    'CheckpointNotFoundError', 'DataPathError', 'check_checkpoint_file',
    'SyncedRandom', 'check_checkpoint_fits', 'check_data_paths',
    'check_finite_positive', 'count_numbered', 'describe_mismatch',
    'finish_distributed', 'free_port', 'global_rng_state',
    'init_cpu_processes', 'load_local_checkpoint', 'load_weights',
    'markdown_table', 'seeded_global_generators', 'set_global_rng_state',
    'USER_ERROR_EXIT', 'UserError', 'ConfigError', 'check_cfg_options',
    'check_eval_split', 'check_registered_types', 'preflight'
]
