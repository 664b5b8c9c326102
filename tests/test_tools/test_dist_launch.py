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
