"""Compare mixing methods: same model, data, schedule and seeds for each
(used by ``tools/benchmark/compare_mixing.py``)."""
from .files import (PLAN_FILE, RESULT_FILE, TIMING_FILE, WorkDirInUse,
                    load_plan,
                    lock_work_dir, read_json, read_result, run_dir,
                    write_json)
from .plan import (METHODS, SETTINGS, Run, cfg_options, check_methods,
                   config_path, plan_runs, train_set_size)
from .report import (markdown_table, mean_std, plot, summarise, verdict,
                     write_report)
from .run import run_planned, train_and_evaluate
from .timing import measure_timing
from .workers import train_all

__all__ = [
    'METHODS', 'PLAN_FILE', 'RESULT_FILE', 'Run', 'SETTINGS', 'TIMING_FILE',
    'WorkDirInUse',
    'cfg_options', 'check_methods', 'config_path', 'load_plan',
    'lock_work_dir',
    'markdown_table', 'mean_std', 'measure_timing', 'plan_runs', 'plot',
    'read_json', 'read_result', 'run_dir', 'run_planned', 'summarise',
    'train_all', 'train_and_evaluate', 'train_set_size', 'verdict',
    'write_json', 'write_report'
]
