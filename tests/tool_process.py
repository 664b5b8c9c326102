"""Run ``tools/*.py`` in real processes that start at once.

Each tool runs in its own process, as ``python tools/<tool>.py`` would, but
forked from one interpreter that has already imported torch, mmengine,
MMPretrain and mmsmmix and run nothing (multiprocessing's forkserver with
those modules preloaded). A fresh Python spends about 6 s of a 2-core
machine importing them; a forked child starts in a fraction of a second,
with its own memory, Runner, logs, exit code and signals (``kill -9``
included).

What a fork cannot give, tests keep in real subprocesses: settings read
when torch is imported (``ATEN_CPU_CAPABILITY`` and the like; only
``OMP_NUM_THREADS`` is applied here, as torch's thread count), the
imports themselves (what an import error or a missing package says), and
launchers (``dist_train.sh``, torchrun, srun), which start fresh Pythons;
:func:`run_tool_ranks` starts the ranks of a distributed run as torchrun
would, for tests about what the ranks do rather than how they start.
"""
import multiprocessing
import os
import os.path as osp
import runpy
import subprocess
import sys
import tempfile
from typing import Dict, Optional

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: What every tool imports, loaded once into the fork server (nothing is
#: run: no thread pools exist to be forked).
PRELOAD = ['torch', 'mmengine.runner', 'mmpretrain.datasets',
           'mmpretrain.engine', 'mmpretrain.evaluation', 'mmpretrain.models',
           'mmpretrain.structures', 'mmpretrain.visualization', 'mmsmmix']
_context = None


def _forkserver():
    global _context
    if _context is None:
        _context = multiprocessing.get_context('forkserver')
        _context.set_forkserver_preload(PRELOAD)
    return _context


def _child(path: str, argv: list, out: str, err: str, cwd: str,
           env: Optional[Dict[str, str]]) -> None:
    """In the forked process: become ``python path *argv``."""
    multiprocessing.set_start_method(None, force=True)  # as a fresh Python
    os.chdir(cwd)
    if env is not None:
        os.environ.clear()
        os.environ.update(env)
        for entry in reversed(env.get('PYTHONPATH', '').split(os.pathsep)):
            if entry:
                sys.path.insert(0, entry)
        if env.get('OMP_NUM_THREADS'):
            import torch
            torch.set_num_threads(int(env['OMP_NUM_THREADS']))
    for fd, name in ((1, out), (2, err)):
        handle = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(handle, fd)
        os.close(handle)
    sys.argv = [path, *argv]
    sys.path.insert(0, osp.dirname(path))
    runpy.run_path(path, run_name='__main__')


class ToolProcess:
    """A tool running in a forked process (see :func:`start_tool_process`).

    Attributes:
        pid (int): Its process id.
    """

    def __init__(self, path: str, args: tuple, cwd: str,
                 env: Optional[Dict[str, str]]):
        self.args = [path, *args]
        self._tmp = tempfile.TemporaryDirectory()
        self._out = osp.join(self._tmp.name, 'stdout')
        self._err = osp.join(self._tmp.name, 'stderr')
        self._proc = _forkserver().Process(
            target=_child, args=(path, list(args), self._out, self._err, cwd,
                                 env))
        self._proc.start()
        self.pid = self._proc.pid

    def poll(self) -> Optional[int]:
        """Its exit code (negative: the signal that killed it), or None
        while it runs."""
        return self._proc.exitcode

    def kill(self) -> None:
        """SIGKILL (no handler runs)."""
        self._proc.kill()

    def wait(self, timeout: float = 600) -> subprocess.CompletedProcess:
        """Wait for it (SIGKILL and TimeoutExpired after ``timeout``
        seconds): its exit code, stdout and stderr, as ``subprocess.run``
        would return them."""
        self._proc.join(timeout)
        if self._proc.exitcode is None:
            self._proc.kill()
            self._proc.join()
            raise subprocess.TimeoutExpired(self.args, timeout)
        outputs = []
        for name in (self._out, self._err):
            try:
                with open(name, errors='replace') as f:
                    outputs.append(f.read())
            except FileNotFoundError:
                outputs.append('')
        self._tmp.cleanup()
        return subprocess.CompletedProcess(self.args, self._proc.exitcode,
                                           *outputs)


def start_tool_process(path: str, *args: str, cwd: str = REPO_ROOT,
                       env: Optional[Dict[str, str]] = None) -> ToolProcess:
    """Start ``python path *args`` in a forked process (see the module
    docstring); relative paths are from the repository root."""
    path = osp.join(REPO_ROOT, path) if not osp.isabs(path) else path
    return ToolProcess(path, args, cwd, env)


def run_tool_process(path: str, *args: str, cwd: str = REPO_ROOT,
                     env: Optional[Dict[str, str]] = None,
                     timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``python path *args`` in a forked process to its end: its exit
    code (negative: killed by that signal), stdout and stderr, as
    ``subprocess.run`` would return them."""
    return start_tool_process(path, *args, cwd=cwd, env=env).wait(timeout)


def run_tool_ranks(path: str, *args: str, ranks: int = 2,
                   env: Optional[Dict[str, str]] = None,
                   timeout: float = 600) -> list:
    """``python path *args --launcher pytorch`` as ``ranks`` forked
    processes with the environment torchrun gives its workers (rank, world
    size, a free rendezvous port on this machine); their results, by rank.
    The launchers themselves are tested with fresh Pythons
    (``test_launchers.py``)."""
    from mmsmmix.utils import free_port
    env = dict(os.environ if env is None else env)
    env.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(free_port()),
               WORLD_SIZE=str(ranks), LOCAL_WORLD_SIZE=str(ranks))
    procs = [
        start_tool_process(path, *args, '--launcher', 'pytorch',
                           env=dict(env, RANK=str(rank),
                                    LOCAL_RANK=str(rank)))
        for rank in range(ranks)
    ]
    return [proc.wait(timeout) for proc in procs]


def run_tool(tool: str, *args: str, **kwargs) -> str:
    """Run ``tools/<tool>`` (see :func:`run_tool_process`); fail the test
    unless it exits 0. Returns stdout + stderr."""
    proc = run_tool_process(osp.join('tools', tool), *args, **kwargs)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    return output


def run_tool_failing(tool: str, *args: str, **kwargs) -> str:
    """Run ``tools/<tool>`` expecting it to fail; returns stdout + stderr."""
    proc = run_tool_process(osp.join('tools', tool), *args, **kwargs)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-4000:]
    return output


#: Fashion-MNIST slices that keep a tool run to seconds: 10 iterations of
#: 32 images, 200 images to validate and test, no loader workers.
ITERS_PER_EPOCH = 10
SMALL = [
    f'train_dataloader.dataset.indices={ITERS_PER_EPOCH * 32}',
    'train_dataloader.batch_size=32',
    'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False',
    'val_dataloader.dataset.indices=200',
    'val_dataloader.num_workers=0',
    'val_dataloader.persistent_workers=False',
    'test_dataloader.dataset.indices=200',
    'test_dataloader.num_workers=0',
    'test_dataloader.persistent_workers=False',
    'default_hooks.logger.interval=2',
]
#: The SMMix Fashion-MNIST config most tool tests run.
SMMIX_CONFIG = osp.join(REPO_ROOT, 'configs', 'fashion_mnist',
                        'vit-mini-p7_smmix_1xb64_fmnist.py')


def scalars(work_dir: str) -> list:
    """The training log records written by the Runner (vis_data)."""
    import glob
    import json
    (path, ) = glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    with open(path) as f:
        return [json.loads(line) for line in f]


#: A one-epoch run on 256 images for the launcher tests, evaluated on 300.
LAUNCH_SMALL = [
    'train_cfg.max_epochs=1',
    'train_dataloader.dataset.indices=256',
    'train_dataloader.batch_size=32',
    'test_dataloader.dataset.indices=300',
    'val_dataloader.dataset.indices=300',
    'default_hooks.logger.interval=1',
]


def top1(output: str) -> float:
    """The last top-1 a Runner logged."""
    import re
    return float(re.findall(r'accuracy/top1: ([0-9.]+)', output)[-1])
