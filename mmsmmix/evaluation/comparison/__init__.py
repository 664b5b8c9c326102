"""Compare mixing methods: same model, data, schedule and seeds for each
(used by ``tools/benchmark/compare_mixing.py``)."""
from .plan import (METHODS, PLAN_FILE, SETTINGS, Run, cfg_options,
                   check_methods, config_path, load_plan, machine, plan_runs)
from .report import (markdown_table, mean_std, plot, summarise, verdict,
                     write_report)
from .run import read_result, run_planned, train_and_evaluate, write_json
from .timing import (build_model, measure_timing, mixing_op_seconds,
                     real_batch, step_times, time_step)

__all__ = [
    'METHODS', 'PLAN_FILE', 'SETTINGS', 'Run', 'cfg_options',
    'check_methods', 'config_path', 'load_plan', 'machine', 'plan_runs',
    'markdown_table', 'mean_std', 'plot', 'summarise', 'verdict',
    'write_report', 'read_result', 'run_planned', 'train_and_evaluate',
    'write_json', 'build_model', 'measure_timing', 'mixing_op_seconds',
    'real_batch', 'step_times', 'time_step'
]
