"""Kill -9 and --resume: the resumed run ends bit-identical to the
uninterrupted one (CPU, same seed), with RandomFlip in the pipeline, SMMix
switching with Mixup, stochastic depth on, validation between epochs, and
with and without data-loader worker processes."""
import os
import os.path as osp
import shutil
import subprocess

import pytest
import torch

from mmsmmix.utils import load_local_checkpoint
from tests.helpers import FMNIST_CONFIGS, REPO_ROOT
from tests.tool_process import run_tool_process, run_tool_ranks

ITERS_PER_EPOCH = 5
EPOCHS = 3
KILL_AT = ITERS_PER_EPOCH + 2  # mid epoch 2, after epoch 1's checkpoint


def _config(tmp_path, hooks: str) -> str:
    path = tmp_path / f'cfg_{abs(hash(hooks))}.py'
    base = osp.join(FMNIST_CONFIGS, 'vit-mini-p7_smmix_1xb64_fmnist.py')
    path.write_text(
        f'_base_ = {base!r}\n'
        "custom_imports = dict(imports=['mmsmmix', "
        "'tests.test_tools.kill_hook'], allow_failed_imports=False)\n"
        f'custom_hooks = [{hooks}]\n'
        'model = dict(backbone=dict(drop_path_rate=0.1))\n')
    return str(path)


def _train(config, work_dir, workers, *extra, procs=1):
    """tools/train.py in a process of its own, or in ``procs`` CPU
    processes (gloo) started as torchrun starts them: its exit code (the
    first failing rank's), stdout and stderr (of rank 0)."""
    options = [
        f'train_dataloader.dataset.indices={ITERS_PER_EPOCH * 32}',
        'train_dataloader.batch_size=32',
        f'train_dataloader.num_workers={workers}',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.dataset.indices=100',
        f'train_cfg.max_epochs={EPOCHS}', 'train_cfg.val_interval=1'
    ]
    env = dict(os.environ, PYTHONPATH=REPO_ROOT)
    tool = osp.join(REPO_ROOT, 'tools', 'train.py')
    if procs == 1:
        return run_tool_process(tool, config, '--work-dir', str(work_dir),
                                *extra, '--cfg-options', *options, env=env)
    # Different seeds per rank, so each rank's generators differ.
    options.append('randomness.diff_rank_seed=True')
    ranks = run_tool_ranks(tool, config, '--work-dir', str(work_dir), *extra,
                           '--cfg-options', *options, ranks=procs, env=env)
    failed = [proc.returncode for proc in ranks if proc.returncode]
    return subprocess.CompletedProcess(ranks[0].args, failed[0] if failed
                                       else 0, ranks[0].stdout,
                                       ranks[0].stderr)


def _final(work_dir):
    return load_local_checkpoint(osp.join(work_dir, f'epoch_{EPOCHS}.pth'))


def _differences(a, b):
    diffs = [k for k in a['state_dict']
             if not torch.equal(a['state_dict'][k], b['state_dict'][k])]
    for key, state in a['optimizer']['state'].items():
        for name, value in state.items():
            if not torch.equal(value, b['optimizer']['state'][key][name]):
                diffs.append(f'optimizer.{key}.{name}')
    return diffs


@pytest.mark.slow
@pytest.mark.parametrize('workers', [0, 2])
def test_kill_and_resume_equals_uninterrupted(fmnist_root, tmp_path,
                                              workers):
    plain = _config(tmp_path, "dict(type='RandomStateHook')")
    killer = _config(
        tmp_path, "dict(type='RandomStateHook'), "
        f"dict(type='KillProcessHook', at_iter={KILL_AT})")

    whole = _train(plain, tmp_path / 'whole', workers)
    assert whole.returncode == 0, whole.stderr[-3000:]

    killed = _train(killer, tmp_path / 'killed', workers)
    assert killed.returncode == -9, killed.stderr[-3000:]
    assert osp.isfile(tmp_path / 'killed' / 'epoch_1.pth')
    assert not osp.exists(tmp_path / 'killed' / 'epoch_2.pth')
    # max_keep_ckpts=2 removes epoch_1.pth later: keep a copy for the control.
    shutil.copy(tmp_path / 'killed' / 'epoch_1.pth', tmp_path / 'epoch_1.pth')

    resumed = _train(plain, tmp_path / 'killed', workers, '--resume')
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    log = resumed.stdout + resumed.stderr
    assert f'resumed epoch: 1, iter: {ITERS_PER_EPOCH}' in log
    assert 'restored the random states' in log

    reference = _final(tmp_path / 'whole')
    assert reference['meta']['iter'] == EPOCHS * ITERS_PER_EPOCH
    assert _differences(reference, _final(tmp_path / 'killed')) == []

    if workers == 0:
        # Control: the same resume without the hook's states drifts, so the
        # equality above is the hook's doing.
        no_hook = _config(tmp_path, '')
        drift = _train(no_hook, tmp_path / 'drift', workers, '--resume',
                       str(tmp_path / 'epoch_1.pth'))
        assert drift.returncode == 0, drift.stderr[-3000:]
        assert _differences(reference, _final(tmp_path / 'drift'))


@pytest.mark.slow
def test_two_process_kill_and_resume_equals_uninterrupted(
        fmnist_root, tmp_path):
    """2 CPU processes with different seeds per rank: each rank gets its own
    generators back."""
    plain = _config(tmp_path, "dict(type='RandomStateHook')")
    killer = _config(
        tmp_path, "dict(type='RandomStateHook'), "
        f"dict(type='KillProcessHook', at_iter={KILL_AT})")
    whole = _train(plain, tmp_path / 'whole', 0, procs=2)
    assert whole.returncode == 0, whole.stderr[-3000:]
    killed = _train(killer, tmp_path / 'killed', 0, procs=2)
    assert killed.returncode != 0
    first = load_local_checkpoint(str(tmp_path / 'killed' / 'epoch_1.pth'))
    ranks = first['random_states']['ranks']
    assert len(ranks) == 2 and not torch.equal(ranks[0]['torch'],
                                               ranks[1]['torch'])
    resumed = _train(plain, tmp_path / 'killed', 0, '--resume', procs=2)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert 'restored the random states' in resumed.stdout + resumed.stderr
    assert _differences(_final(tmp_path / 'whole'),
                        _final(tmp_path / 'killed')) == []
