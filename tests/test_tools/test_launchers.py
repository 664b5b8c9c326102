"""OpenMMLab's launchers: tools/dist_{train,test}.sh (torchrun) and
tools/slurm_{train,test}.sh (srun on a private one-node Slurm cluster),
started from a directory outside the repository with relative paths, on
CPU processes (gloo) and the real Fashion-MNIST."""
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch

from mmsmmix.utils import free_port
from tests.helpers import REPO_ROOT
from tests.slurm_cluster import slurm_cluster, unavailable
from tests.tool_process import LAUNCH_SMALL as SMALL
from tests.tool_process import SMMIX_CONFIG, run_tool, top1

pytestmark = pytest.mark.slow

TOOLS = osp.join(REPO_ROOT, 'tools')


@pytest.fixture
def outside(tmp_path):
    """A user's directory outside the repository, holding their own config
    (relative path ``my_smmix.py``) that inherits ours."""
    user = tmp_path / 'user'
    user.mkdir()
    (user / 'my_smmix.py').write_text(f'_base_ = [{SMMIX_CONFIG!r}]\n')
    return user


def launch(script, *args, cwd, env=None):
    env = dict(os.environ if env is None else env)
    env.pop('PYTHON', None)  # the launcher picks the package's Python
    env.setdefault('PORT', str(free_port()))
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env['PATH']
    proc = subprocess.run(['bash', osp.join(TOOLS, script), *args], cwd=cwd,
                          env=env, capture_output=True, text=True,
                          timeout=600)
    return proc.returncode, proc.stdout + proc.stderr


def test_dist_train_and_test_from_outside_the_repository(
        fmnist_root, outside):
    code, output = launch('dist_train.sh', 'my_smmix.py', '2', '--work-dir',
                          'runs/smmix', '--cfg-options', *SMALL,
                          cwd=outside)
    assert code == 0, output[-4000:]
    # It says which Python it chose.
    assert re.search(r'dist_train.sh: using \S+python\S* \(from ', output)
    assert 'Distributed training: True' in output
    assert 'Epoch(train) [1][4/4]' in output
    # The relative work dir is the user's, not the repository's.
    ckpt = outside / 'runs' / 'smmix' / 'epoch_1.pth'
    assert ckpt.is_file()
    assert not osp.exists(osp.join(REPO_ROOT, 'runs'))
    code, output = launch('dist_test.sh', 'my_smmix.py',
                          'runs/smmix/epoch_1.pth', '2', '--work-dir',
                          'runs/test', '--cfg-options', *SMALL, cwd=outside)
    assert code == 0, output[-4000:]
    assert (outside / 'runs' / 'test').is_dir()
    single = top1(
        run_tool('test.py', SMMIX_CONFIG, str(ckpt), '--work-dir',
                 str(outside / 'single'), '--cfg-options', *SMALL))
    assert top1(output) == single


def test_launcher_refuses_a_python_without_the_stack(tmp_path):
    """A Python that cannot import torch and mmsmmix is named, with what to
    do, before anything starts."""
    bare = tmp_path / 'bare'
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip',
                    str(bare)], check=True)
    env = dict(os.environ, PYTHON=str(bare / 'bin' / 'python'))
    proc = subprocess.run(
        ['bash', osp.join(TOOLS, 'dist_train.sh'), 'x.py', '2'],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert f'{bare}/bin/python (from $PYTHON) cannot import: torch' \
        in proc.stderr
    assert 'set PYTHON=' in proc.stderr
    assert 'Traceback' not in proc.stderr


def test_launchers_print_usage_without_arguments():
    for script, args in (('dist_train.sh', ['c.py']),
                         ('dist_test.sh', ['c.py', 'k']),
                         ('slurm_train.sh', ['p', 'j', 'c.py']),
                         ('slurm_test.sh', ['p', 'j', 'c.py'])):
        proc = subprocess.run(['bash', osp.join(TOOLS, script), *args],
                              capture_output=True, text=True, timeout=30)
        assert proc.returncode == 2 and 'usage:' in proc.stderr, script


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    why = unavailable()
    if why:
        pytest.skip(f'no Slurm: {why}')
    with slurm_cluster(str(tmp_path_factory.mktemp('slurm'))) as env:
        yield env


def test_slurm_train_and_test(fmnist_root, outside, cluster):
    """Two Slurm tasks train with --launcher slurm (gloo on CPUs), then two
    tasks test; the score equals a single-process test."""
    assert not torch.cuda.is_available()
    env = dict(cluster, GPUS='2', GPUS_PER_NODE='2', CPUS_PER_TASK='1',
               GRES='', MASTER_PORT=str(free_port()))
    code, output = launch('slurm_train.sh', 'cpu', 'smmix-test',
                          'my_smmix.py', 'runs/slurm', '--cfg-options',
                          *SMALL, cwd=outside, env=env)
    assert code == 0, output[-4000:]
    assert 'slurm_train.sh: using' in output
    assert 'Distributed training: True' in output
    # 256 images / (2 tasks x 32) = 4 iterations per epoch.
    assert 'Epoch(train) [1][4/4]' in output
    ckpt = outside / 'runs' / 'slurm' / 'epoch_1.pth'
    assert ckpt.is_file()
    env['MASTER_PORT'] = str(free_port())
    code, output = launch('slurm_test.sh', 'cpu', 'smmix-test',
                          'my_smmix.py', 'runs/slurm/epoch_1.pth',
                          '--work-dir', 'runs/slurm_test', '--cfg-options',
                          *SMALL, cwd=outside, env=env)
    assert code == 0, output[-4000:]
    single = top1(
        run_tool('test.py', SMMIX_CONFIG, str(ckpt), '--work-dir',
                 str(outside / 'single'), '--cfg-options', *SMALL))
    assert top1(output) == single
