"""Mixed precision on CPUs: every compared method trains a step under
``BFloat16AmpOptimWrapper`` (bfloat16 autocast seen inside the backbone,
finite losses, weights moved), the non-finite guard refuses or skips a NaN
batch under it, and ``tools/train.py --amp`` picks it on a machine without
CUDA."""
import copy

import pytest
import torch
from mmengine.config import Config

import mmsmmix  # noqa: F401
from mmsmmix.benchmarks.comparison import load_suite
from mmsmmix.benchmarks.timing import build_model
from mmsmmix.datasets import first_training_batch
from mmsmmix.utils.runner_args import amp_cfg

SUITE = load_suite('fashion_mnist')


def _config(method, **train_cfg):
    cfg = Config.fromfile(SUITE.methods[method].config)
    cfg.model.backbone.patch_size = 4
    cfg.model.setdefault('train_cfg', {}).update(train_cfg)
    return cfg


@pytest.fixture(scope='module')
def batch(fmnist_root):
    return first_training_batch(_config('nomix'), 8)


def _weights(model):
    return [p.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize('method', list(SUITE.methods))
def test_every_method_steps_in_bfloat16(method, batch):
    model, optim = build_model(_config(method), torch.device('cpu'),
                               bf16=True)
    seen = []
    qkv = model.backbone.layers[0].attn.qkv
    qkv.register_forward_hook(lambda m, a, out: seen.append(out.dtype))
    before = _weights(model)
    for _ in range(2):  # both branches of the 50/50 methods, likely
        log_vars = model.train_step(copy.deepcopy(batch), optim)
    assert torch.bfloat16 in seen
    losses = {k: v for k, v in log_vars.items() if 'loss' in k}
    assert losses and all(torch.isfinite(v).all() for v in losses.values())
    moved = [not torch.equal(a, b)
             for a, b in zip(before, _weights(model))]
    assert all(moved), f'{moved.count(False)} parameters did not move'


@pytest.mark.parametrize('mode', ['raise', 'skip'])
def test_guard_under_bfloat16(mode, batch):
    model, optim = build_model(_config('smmix', nonfinite=mode),
                               torch.device('cpu'), bf16=True)
    bad = copy.deepcopy(batch)
    bad['inputs'] = [image.float() for image in bad['inputs']]
    bad['inputs'][3][0, 5, 5] = float('nan')
    before = _weights(model)
    if mode == 'raise':
        with pytest.raises(FloatingPointError, match='non-finite inputs'):
            model.train_step(bad, optim)
    else:
        log_vars = model.train_step(bad, optim)
        assert int(log_vars['skipped_steps']) == 1
        assert optim.skipped_steps == 1
    assert all(torch.equal(a, b) for a, b in zip(before, _weights(model)))
    assert all(p.grad is None or not p.grad.any()
               for p in model.parameters())
    model.train_step(copy.deepcopy(batch), optim)  # a good step applies
    assert not all(torch.equal(a, b)
                   for a, b in zip(before, _weights(model)))


def test_amp_option_picks_the_wrapper_of_the_device():
    cfg = _config('smmix')
    cpu = copy.deepcopy(cfg)
    assert amp_cfg(cpu, cuda=False) == 'BFloat16AmpOptimWrapper'
    assert cpu.optim_wrapper.enabled == 'auto'  # bf16 only where native
    gpu = copy.deepcopy(cfg)
    assert amp_cfg(gpu, cuda=True) == 'AmpOptimWrapper'
    assert gpu.optim_wrapper.loss_scale == 'dynamic'
    assert amp_cfg(gpu, cuda=False) == 'AmpOptimWrapper'  # already AMP


@pytest.mark.slow
def test_train_tool_amp_on_cpu(fmnist_root, tmp_path):
    """``tools/train.py --amp`` on a machine without CUDA trains through the
    real Runner in bfloat16 (mmengine's AmpOptimWrapper would refuse)."""
    from tests.tool_process import run_tool, scalars
    assert not torch.cuda.is_available()
    work_dir = str(tmp_path / 'amp')
    run_tool('train.py', SUITE.methods['smmix'].config, '--amp',
             '--work-dir', work_dir, '--cfg-options',
             'train_cfg.max_epochs=1', 'train_dataloader.dataset.indices=256',
             'val_dataloader.dataset.indices=200',
             'default_hooks.logger.interval=1')
    dumped = Config.fromfile(
        f"{work_dir}/{SUITE.methods['smmix'].config.split('/')[-1]}")
    assert dumped.optim_wrapper.type == 'BFloat16AmpOptimWrapper'
    losses = [r['loss'] for r in scalars(work_dir) if 'loss' in r]
    assert len(losses) == 4
    assert all(v == v and abs(v) < 1e3 for v in losses)  # finite
