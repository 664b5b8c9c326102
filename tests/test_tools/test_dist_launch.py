"""tools/train.sh (the older name of dist_train.sh) with 2 CPU processes
(gloo) on real data, one of them frozen: the distributed timeout of the
config ends the launch. The launchers' normal runs are tested in
test_launchers.py."""
import os
import os.path as osp
import re
import subprocess
import sys
import time

from mmsmmix.utils.dist import free_port  # noqa: F401 (used by others)
from tests.conftest import REPO_ROOT
from tests.tool_process import SMMIX_CONFIG

SMALL = [
    'train_cfg.max_epochs=1',
    'train_dataloader.dataset.indices=256',
    'train_dataloader.batch_size=32',
    'test_dataloader.dataset.indices=300',
    'val_dataloader.dataset.indices=300',
    'default_hooks.logger.interval=1',
]


def top1(output):
    return float(re.findall(r'accuracy/top1: ([0-9.]+)', output)[-1])


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
