"""Compare mixing methods: same model, data, schedule and seeds for each
(used by ``tools/benchmark/compare_mixing.py``)."""
from .files import (PLAN_FILE, RESULT_FILE, TIMING_FILE, ComparisonError,
                    SettingChanged, WorkDirInUse, load_plan, lock_work_dir,
                    read_json, read_result, run_dir, setting_changes,
                    write_json)
from .plan import (REFERENCE, Run, cfg_options, check_data, check_methods,
                   command_options, dataset_size, make_plan, plan_runs,
                   run_config, train_commands)
from .report import (describe, markdown_table, mean_std, summarise, verdict,
                     write_report)
from .run import collect, identify, run_planned, train_and_evaluate
from .suite import (METHODS, SETTING_KEYS, SETTING_OWNED, SUITES, Method,
                    Suite, load_suite, resolve_config, suite_path,
                    warmup_rounds)
from .timing import measure_timing, timing_of
from .workers import Launch, failure, last_error, resume_point, train_all

__all__ = [
    'ComparisonError', 'Launch', 'METHODS', 'Method', 'PLAN_FILE',
    'REFERENCE', 'RESULT_FILE', 'Run', 'SETTING_KEYS', 'SETTING_OWNED',
    'SUITES', 'SettingChanged', 'Suite', 'TIMING_FILE', 'WorkDirInUse',
    'cfg_options', 'check_data', 'check_methods', 'collect',
    'command_options', 'dataset_size', 'describe', 'failure', 'identify',
    'last_error', 'load_plan', 'load_suite', 'lock_work_dir', 'make_plan',
    'markdown_table', 'mean_std', 'measure_timing', 'plan_runs',
    'read_json', 'read_result', 'resolve_config', 'resume_point',
    'run_config', 'run_dir', 'run_planned', 'setting_changes',
    'suite_path', 'summarise', 'timing_of', 'train_all',
    'train_and_evaluate', 'train_commands', 'verdict', 'warmup_rounds',
    'write_json', 'write_report'
]
