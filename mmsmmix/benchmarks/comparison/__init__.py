"""Compare mixing methods: same model, data, schedule and seeds for each
(used by ``tools/benchmark/compare_mixing.py``)."""
from .files import (PLAN_FILE, RESULT_FILE, TIMING_FILE, WorkDirInUse,
                    load_plan, lock_work_dir, read_json, read_result, run_dir,
                    write_json)
from .plan import (REFERENCE, Run, cfg_options, check_data, check_methods,
                   dataset_size, make_plan, plan_runs, run_config,
                   train_commands)
from .report import (describe, markdown_table, mean_std, summarise, verdict,
                     write_report)
from .run import collect, identify, run_planned, train_and_evaluate
from .suite import (METHODS, SETTING_KEYS, SETTING_OWNED, SUITES, Method,
                    Suite, load_suite, suite_path)
from .timing import measure_timing, timing_of
from .workers import Launch, train_all

__all__ = [
    'Launch', 'METHODS', 'Method', 'PLAN_FILE', 'REFERENCE', 'RESULT_FILE',
    'Run', 'SETTING_KEYS', 'SETTING_OWNED', 'SUITES', 'Suite',
    'TIMING_FILE', 'WorkDirInUse', 'cfg_options', 'check_data',
    'check_methods', 'collect', 'dataset_size', 'describe', 'identify',
    'load_plan', 'load_suite', 'lock_work_dir', 'make_plan',
    'markdown_table', 'mean_std', 'measure_timing', 'plan_runs',
    'read_json', 'read_result', 'run_config', 'run_dir', 'run_planned',
    'summarise', 'suite_path', 'timing_of', 'train_all',
    'train_and_evaluate', 'train_commands', 'verdict', 'write_json',
    'write_report'
]
