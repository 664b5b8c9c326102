"""tools/benchmark/cuda_check.py in its tiny CPU setting: every method
trains, refuses a NaN batch and reloads; the report times them against
CutMix. And the check fails when what it checks is broken."""
import json

import pytest
import torch

from mmsmmix.benchmarks.comparison import METHODS as SUITE_METHODS
from mmsmmix.benchmarks.comparison import load_suite
from mmsmmix.benchmarks.cuda_check import (METHODS, deit_small_setting,
                                           run_check, tiny_setting)
from tests.helpers import refused
from tests.tool_process import run_tool_process

TOOL = 'tools/benchmark/cuda_check.py'


@pytest.mark.slow
def test_tiny_check_on_cpu(tmp_path):
    out = tmp_path / 'check.json'
    proc = run_tool_process(TOOL, '--tiny', '--device', 'cpu', '--json',
                            str(out))
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert proc.stdout.strip().endswith('cuda_check: PASSED')
    result = json.loads(out.read_text())
    assert result['amp'] is False
    methods = [c['method'] for c in result['checks']]
    assert methods == list(METHODS)
    for check in result['checks']:
        assert len(check['losses']) == 3
        assert check['nan_refused'].startswith('non-finite inputs')
        assert check['reloaded'] is True
        assert len(check['step_s']) == 2 and min(check['step_s']) > 0
        assert check['peak_memory_mb'] is None  # no GPU memory on a CPU
    rows = [line for line in proc.stdout.splitlines()
            if line.startswith('| ')]
    assert rows[0].startswith('| method | images/s | images/s vs CutMix')
    assert rows[2].startswith('| cutmix |') and '| 1.00x |' in rows[2]
    assert [r.split(' | ')[0][2:] for r in rows[2:]] == methods


def test_check_fails_when_the_guard_lets_nan_through():
    setting = tiny_setting()
    setting.configs = {m: setting.configs[m] for m in ('cutmix', 'smmix')}
    setting.overrides = dict(smmix={'model.train_cfg.nonfinite': 'skip'})
    with pytest.raises(AssertionError, match='smmix: a NaN batch was not '
                       'refused'):
        run_check(setting, 'cpu', log=lambda line: None)


@pytest.mark.skipif(torch.cuda.is_available(), reason='a GPU is here')
def test_no_cuda_is_said(capsys):
    code, message = refused(TOOL, capsys=capsys)
    assert code == 2 and message.startswith(
        f'{TOOL}: --device cuda: no CUDA device here (torch '), message
    assert message.strip().endswith('use --device cpu --tiny'), message


def test_unknown_device_is_refused(capsys):
    code, message = refused(TOOL, '--device', 'gpu', capsys=capsys)
    assert code == 2 and "--device gpu: use 'cuda', 'cuda:N' or 'cpu'" in \
        message


def test_checked_methods_are_the_suites():
    """The checked methods are comparison-suite names (one spelling), with
    their suites' configs: Fashion-MNIST for --tiny, DeiT-S otherwise."""
    assert {m.replace('_bf16', '') for m in METHODS} <= set(SUITE_METHODS)
    for setting, suite in ((tiny_setting(), 'fashion_mnist'),
                           (deit_small_setting(), 'imagenet_deit-s')):
        methods = load_suite(suite).methods
        for m in METHODS:
            assert setting.configs[m] == methods[m.replace('_bf16', '')] \
                .config
        assert set(setting.overrides) == {'smmix_bf16'}
