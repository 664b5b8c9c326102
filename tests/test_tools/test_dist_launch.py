"""tools/train.sh (the older name of dist_train.sh) with 2 CPU processes
(gloo) on real data, one of them frozen: the distributed timeout of the
config ends the launch. The launchers' normal runs are tested in
test_launchers.py."""
import os
import os.path as osp
import subprocess
import sys

import pytest

from mmsmmix.utils import free_port
from tests.helpers import REPO_ROOT
from tests.tool_process import LAUNCH_SMALL, SMMIX_CONFIG

pytestmark = pytest.mark.slow


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
         '--work-dir', str(tmp_path / 'work'), '--cfg-options', *LAUNCH_SMALL],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert stamp.exists()  # rank 1 froze
    # gloo names the wait it gave up: the config's, not torch's 30 minutes
    # (no clock is read here: the message says which timeout ended it).
    output = proc.stdout + proc.stderr
    assert f'Timed out waiting {timeout * 1000}ms' in output, output[-3000:]
