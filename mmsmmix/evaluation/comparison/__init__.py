"""Compare mixing methods: same model, data, schedule and seeds for each
(used by ``tools/benchmark/compare_mixing.py``)."""
from .plan import (METHODS, SETTINGS, Run, cfg_options, check_methods,
                   config_path, plan_runs)
from .report import markdown_table, mean_std, plot, summarise, verdict
from .run import read_result, train_and_evaluate, write_json
from .timing import (build_model, mixing_op_seconds, real_batch, step_times,
                     time_step)

__all__ = [
    'METHODS', 'SETTINGS', 'Run', 'cfg_options', 'check_methods',
    'config_path', 'plan_runs', 'markdown_table', 'mean_std', 'plot',
    'summarise', 'verdict', 'read_result', 'train_and_evaluate', 'write_json',
    'build_model', 'mixing_op_seconds', 'real_batch', 'step_times',
    'time_step'
]
