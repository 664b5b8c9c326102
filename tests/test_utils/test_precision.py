"""bfloat16 only where it helps: the detection of native bfloat16 agrees
with the CPU's own flags, every bfloat16 option warns in one line where
the device emulates it, and ``'auto'`` picks bfloat16 only where it is
native (the detection patched both ways in-process)."""
import logging
import os
import subprocess
import sys
import warnings

import pytest
import torch
from mmengine.logging import MMLogger
from mmpretrain.registry import MODELS

import mmsmmix  # noqa: F401
from mmsmmix.engine import BFloat16AmpOptimWrapper
from mmsmmix.models.augments.base import motivating_torch_dtype
from mmsmmix.utils import precision
from mmsmmix.utils.precision import (SlowPrecisionWarning, precision_support,
                                     resolve_auto)
from tests.helpers import tiny_vit_cfg

AVX2_ENV = dict(ATEN_CPU_CAPABILITY='avx2', MKL_ENABLE_INSTRUCTIONS='AVX2',
                ONEDNN_MAX_CPU_ISA='AVX2')


def _cpuinfo_flags() -> set:
    with open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('flags'):
                return set(line.split(':', 1)[1].split())
    return set()


@pytest.fixture
def cpu(monkeypatch):
    """Make the CPU report a capability and bfloat16 extensions."""

    def set_cpu(capability: str, bf16: bool):
        monkeypatch.setattr(torch.backends.cpu, 'get_cpu_capability',
                            lambda: capability)
        for flag in ('_is_avx512_bf16_supported', '_is_amx_tile_supported'):
            monkeypatch.setattr(torch.cpu, flag, lambda: bf16)
        monkeypatch.delenv('ONEDNN_MAX_CPU_ISA', raising=False)
        monkeypatch.delenv('DNNL_MAX_CPU_ISA', raising=False)
        precision_support.cache_clear()

    yield set_cpu
    precision_support.cache_clear()


@pytest.mark.skipif(not os.path.isfile('/proc/cpuinfo'),
                    reason='reads /proc/cpuinfo (Linux)')
def test_detection_agrees_with_the_cpu_flags():
    """Native iff PyTorch dispatches AVX-512 kernels, the CPU lists
    avx512_bf16 or amx_tile (read here from /proc/cpuinfo, not torch) and
    no oneDNN cap below its bfloat16 ISAs is set."""
    flags = _cpuinfo_flags()
    cap = (os.environ.get('ONEDNN_MAX_CPU_ISA')
           or os.environ.get('DNNL_MAX_CPU_ISA') or 'ALL').upper()
    onednn_bf16 = cap in ('ALL', 'DEFAULT') or any(
        part in cap for part in ('BF16', 'AMX', 'FP16', 'AVX10'))
    expected = (torch.backends.cpu.get_cpu_capability().startswith('AVX512')
                and bool(flags & {'avx512_bf16', 'amx_tile'})
                and onednn_bf16)
    support = precision_support('cpu', 'bfloat16')
    assert support.native == expected, support
    assert torch.backends.cpu.get_cpu_capability() in support.detail


@pytest.mark.slow
def test_avx2_dispatch_is_not_native():
    """Under the AVX2 settings (what an AVX2 machine computes with) the
    detection says emulated, naming the capability."""
    env = dict(os.environ, **AVX2_ENV)
    code = ('from mmsmmix.utils.precision import precision_support\n'
            "s = precision_support('cpu', 'bfloat16')\n"
            'print(s.native, s.detail)')
    out = subprocess.run([sys.executable, '-c', code], env=env, check=True,
                         capture_output=True, text=True).stdout.strip()
    assert out.startswith('False CPU capability AVX2'), out


def _smmix_model(motivating_dtype):
    torch.manual_seed(0)
    return MODELS.build(
        dict(type='MixImageClassifier',
             backbone=tiny_vit_cfg(),
             head=dict(type='SMMixClsHead', num_classes=10, in_channels=64,
                       loss=dict(type='CrossEntropyLoss', use_soft=True)),
             train_cfg=dict(augments=dict(
                 type='SMMix', switch_prob=1.0, seed=1,
                 motivating_dtype=motivating_dtype))))


def _wrapper(enabled=True):
    params = [torch.nn.Parameter(torch.zeros(2))]
    return BFloat16AmpOptimWrapper(
        enabled=enabled, optimizer=torch.optim.SGD(params, lr=0.1))


def _clean_pass_dtypes(model):
    seen = []
    qkv = model.backbone.layers[-1].attn.qkv
    handle = qkv.register_forward_hook(lambda m, a, out: seen.append(
        out.dtype))
    try:
        model.augments[0].mix(torch.randn(4, 1, 28, 28), torch.eye(10)[:4],
                              model.mix_context)
    finally:
        handle.remove()
    return set(seen)


def _autocast_inside(wrapper) -> bool:
    with wrapper.optim_context(torch.nn.Linear(2, 2)):
        return torch.is_autocast_enabled('cpu')


MESSAGE = (r"bfloat16 is not native on this cpu \(CPU capability AVX2 "
           r"without AVX512-BF16 or AMX\), so it is slower than float32 "
           r"here \(measured .* on an AVX2 CPU\); use 'auto'")


def test_emulated_bfloat16_warns_in_one_line_and_auto_stays_float32(cpu):
    cpu('AVX2', bf16=False)
    assert not precision_support('cpu', 'bfloat16').native
    with pytest.warns(SlowPrecisionWarning,
                      match='BFloat16AmpOptimWrapper: ' + MESSAGE) as seen:
        wrapper = _wrapper()
    assert '\n' not in str(seen[0].message)
    assert _autocast_inside(wrapper)  # forced: bfloat16 all the same
    with pytest.warns(SlowPrecisionWarning,
                      match="SMMix motivating_dtype='bfloat16': " + MESSAGE):
        model = _smmix_model('bfloat16')
    assert _clean_pass_dtypes(model) == {torch.bfloat16}

    with warnings.catch_warnings():
        warnings.simplefilter('error')  # 'auto' never warns
        auto_wrapper = _wrapper('auto')
        auto_model = _smmix_model('auto')
    assert motivating_torch_dtype('auto', 'cpu') == torch.float32
    assert not resolve_auto('auto', 'bfloat16', 'cpu')
    assert not _autocast_inside(auto_wrapper)
    assert _clean_pass_dtypes(auto_model) == {torch.float32}


def test_native_bfloat16_is_silent_and_auto_uses_it(cpu):
    cpu('AVX512', bf16=True)
    support = precision_support('cpu', 'bfloat16')
    assert support.native
    assert support.detail == ('CPU capability AVX512 with AVX512-BF16 and '
                              'AMX')
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        _wrapper()
        _smmix_model('bfloat16')
        auto_wrapper = _wrapper('auto')
        auto_model = _smmix_model('auto')
    assert motivating_torch_dtype('auto', 'cpu') == torch.bfloat16
    assert _autocast_inside(auto_wrapper)
    assert _clean_pass_dtypes(auto_model) == {torch.bfloat16}


def test_extensions_unused_by_the_dispatch_are_not_native(cpu, monkeypatch):
    """AVX512-BF16 hardware under AVX2 kernels, or with oneDNN capped below
    its bfloat16 ISA, is emulated."""
    cpu('AVX2', bf16=True)
    support = precision_support('cpu', 'bfloat16')
    assert not support.native
    assert 'AVX2: PyTorch does not use its AVX512-BF16' in support.detail
    cpu('AVX512', bf16=True)
    monkeypatch.setenv('ONEDNN_MAX_CPU_ISA', 'AVX512_CORE')
    precision_support.cache_clear()
    support = precision_support('cpu', 'bfloat16')
    assert not support.native
    assert support.detail.endswith('ONEDNN_MAX_CPU_ISA=AVX512_CORE')


def test_auto_wrapper_logs_its_choice(cpu):
    cpu('AVX2', bf16=False)
    logger = MMLogger.get_current_instance()
    lines = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    logger.addHandler(handler)
    try:
        _wrapper('auto')
    finally:
        logger.removeHandler(handler)
    assert any("enabled='auto'): float32 on cpu, where bfloat16 is not "
               'native (CPU capability AVX2' in line for line in lines)


def test_bad_choices_are_refused():
    with pytest.raises(ValueError, match="BFloat16AmpOptimWrapper enabled "
                       "must be True, False or 'auto', got 'yes'"):
        _wrapper('yes')
    with pytest.raises(ValueError, match="dtype must be 'bfloat16' or "
                       "'float16', got 'float8'"):
        precision.precision_support('cpu', 'float8')


def test_benchmark_headers_name_the_instruction_set():
    """What every benchmark records: the CPU's kernel dispatch and whether
    bfloat16 is native there, in its JSON and in its report's header."""
    from mmsmmix.benchmarks import compile_timing
    from mmsmmix.benchmarks.timing import environment
    env = environment()
    support = precision_support('cpu', 'bfloat16')
    assert env['cpu_capability'] == torch.backends.cpu.get_cpu_capability()
    assert env['cpu_bf16_native'] is support.native
    assert env['cpu_bf16'] == support.detail
    env.update(batch_size=64, rounds=1, compile='defaults', settle=3,
               max_warmup=30, loadavg_after='0')
    warmup = dict(settled=True, graphs=1, steps=3, seconds=1.)
    report = compile_timing.report(dict(
        env=env, methods=['cutmix'], graphs_compiled_while_timing=0,
        results=dict(cutmix=dict(eager_s=1., compiled_s=.9, ratio=.9,
                                 ratio_iqr=(.9, .9), warmup=warmup,
                                 fell_back=False))))
    header = report.split('\n|')[0]
    native = 'native' if support.native else 'emulated'
    assert f'{support.detail}: bfloat16 {native}' in header
