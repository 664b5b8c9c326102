"""tools/train.sh and tools/test.sh with 2 CPU processes (gloo) on real data.

mmengine's pytorch launcher assumes CUDA; the tools start gloo process
groups on CPU-only machines. The distributed test must score the checkpoint
exactly as a single-process test does.
"""
import os
import os.path as osp
import re
import socket
import subprocess
import sys
import time

from tests.conftest import REPO_ROOT
from tests.test_tools.test_train_test_resume import SMMIX_CONFIG, run_tool

SMALL = [
    'train_cfg.max_epochs=1',
    'train_dataloader.dataset.indices=256',
    'train_dataloader.batch_size=32',
    'test_dataloader.dataset.indices=300',
    'val_dataloader.dataset.indices=300',
    'default_hooks.logger.interval=1',
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run_script(script, *args):
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()))
    proc = subprocess.run(['bash', osp.join(REPO_ROOT, 'tools', script), *args],
                          cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    return output


def top1(output):
    return float(re.findall(r'accuracy/top1: ([0-9.]+)', output)[-1])


def test_two_process_train_and_test(fmnist_root, tmp_path):
    output = run_script('train.sh', SMMIX_CONFIG, '2', '--work-dir',
                        str(tmp_path), '--cfg-options', *SMALL)
    assert 'Distributed training: True' in output
    # 256 images / (2 processes x 32) = 4 iterations, each logged.
    assert 'Epoch(train) [1][4/4]' in output and 'loss_cls' in output
    ckpt = str(tmp_path / 'epoch_1.pth')
    dist_top1 = top1(
        run_script('test.sh', SMMIX_CONFIG, ckpt, '2', '--work-dir',
                   str(tmp_path / 'dist_test'), '--cfg-options', *SMALL))
    single_top1 = top1(
        run_tool('test.py', SMMIX_CONFIG, ckpt, '--work-dir',
                 str(tmp_path / 'test'), '--cfg-options', *SMALL))
    assert dist_top1 == single_top1


def test_frozen_rank_times_out_as_configured(fmnist_root, tmp_path):
    """Rank 1 stops responding at iteration 2; rank 0 waits in the gradient
    all-reduce only for env_cfg.dist_cfg.timeout, then the launch fails."""
    timeout = 6
    stamp = tmp_path / 'froze_at'
    config = tmp_path / 'freeze.py'
    config.write_text(
        f'_base_ = {SMMIX_CONFIG!r}\n'
        "custom_imports = dict(imports=['mmsmmix', "
        "'tests.test_tools.freeze_hook'], allow_failed_imports=False)\n"
        "custom_hooks = [dict(type='FreezeRankHook', rank=1, at_iter=2, "
        f'stamp_file={str(stamp)!r})]\n'
        f'env_cfg = dict(dist_cfg=dict(timeout={timeout}))\n')
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()))
    proc = subprocess.run(
        ['bash', osp.join(REPO_ROOT, 'tools', 'train.sh'), str(config), '2',
         '--work-dir', str(tmp_path / 'work'), '--cfg-options', *SMALL],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    ended = time.time()
    assert proc.returncode != 0
    waited = ended - float(stamp.read_text())
    # Not before the timeout (it was the timeout that ended the wait), and
    # well before torch's 30-minute default.
    assert timeout - 1 < waited < timeout + 40, waited
    output = proc.stdout + proc.stderr
    assert re.search(r'[Tt]imed? ?out', output), output[-3000:]
