"""Train a comparison's runs in worker processes, ``jobs`` at a time, with
progress and ETA on stdout. A run is one process, or several through
torchrun (``launcher='pytorch'``) or srun (``'slurm'``), started by the
shell launchers' own command lines (``tools/misc/launch.sh``).

Workers never outlive the coordinator: each asks the kernel for SIGTERM
when its parent dies (Linux ``PR_SET_PDEATHSIG``, so also after a
``kill -9`` of the coordinator), and a coordinator that stops for any other
reason (Ctrl-C, SIGTERM, an error) terminates its workers and waits for
them. A stopped run resumes from its last checkpoint.
"""
import ctypes
import datetime
import os
import os.path as osp
import re
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from mmsmmix.registry import tools_dir
from mmsmmix.utils.dist import free_port
from .files import read_result
from .files import run_dir as run_path


def _epoch(log_path: str) -> str:
    """The last 'Epoch(train) [e]' of a run's log, for progress lines."""
    try:
        with open(log_path, errors='replace') as f:
            tail = f.read()[-4000:]
    except OSError:
        return 'starting'
    found = re.findall(r'Epoch\(train\)\s*\[(\d+)\]', tail)
    return f'epoch {found[-1]}' if found else 'starting'


#: Exceptions that only report a failure elsewhere (torchrun's, when a rank
#: fails): the rank's own error is the one to show.
_WRAPPERS = ('ChildFailedError', )


def last_error(log_path: str, start: int = 0,
               tail: int = 200_000) -> Optional[str]:
    """The exception line of the last traceback in a run's log (``ValueError:
    ...``, its first line; a launcher's wrapper skipped: the rank's own
    error), or None if the log holds no traceback.

    Args:
        log_path (str): The log (``run.log``: every attempt appends).
        start (int): Where this attempt's output begins (bytes).
        tail (int): Bytes read at most, from the end.
    """
    try:
        with open(log_path, 'rb') as f:
            f.seek(max(start, os.path.getsize(log_path) - tail))
            lines = f.read().decode(errors='replace').splitlines()
    except OSError:
        return None
    found = []
    for i, line in enumerate(lines):
        if not line.startswith('Traceback (most recent call last):'):
            continue
        for after in lines[i + 1:]:
            if after.strip() and not after[0].isspace():
                found.append(after.strip())
                break
    own = [e for e in found if not e.split(':')[0].endswith(_WRAPPERS)]
    error = (own or found or [None])[-1]
    return error if error is None or len(error) <= 500 else \
        error[:500] + ' ...'


def failure(run_name: str, returncode: int, run_dir: str,
            log_start: int = 0) -> str:
    """The coordinator's lines about a failed run: its exit, the last error
    line of its log (from ``log_start``: this attempt's), and the log's
    path."""
    log = osp.join(run_dir, 'run.log')
    exit_ = (f'killed by signal {-returncode}' if returncode < 0 else
             f'exit {returncode}')
    error = last_error(log, log_start) or (
        'no error in its log' if returncode else
        'it finished without a result')
    return f'  FAILED {run_name} ({exit_}): {error}\n    log: {log}'


def resume_point(run_dir: str) -> Optional[str]:
    """Where a run restarted in ``run_dir`` resumes: ``'epoch N'`` (or
    ``'iteration N'``) of the checkpoint its Runner loads (``resume=True``
    loads the one ``last_checkpoint`` names), or None for a fresh start."""
    marker = osp.join(run_dir, 'last_checkpoint')
    try:
        with open(marker) as f:
            name = osp.basename(f.read().strip())
    except OSError:
        return None
    found = re.fullmatch(r'(epoch|iter)_(\d+)\.pth', name)
    if found is None:
        return f'checkpoint {name}' if name else None
    kind = 'epoch' if found.group(1) == 'epoch' else 'iteration'
    return f'{kind} {found.group(2)}'


def _hms(seconds: float) -> str:
    return str(datetime.timedelta(seconds=int(seconds)))


PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In a worker (before exec, or first thing): SIGTERM when the process
    that started it dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the finally below still
        pass                           # stops workers on a clean exit


def stop(procs, grace: float = 30.) -> None:
    """SIGTERM the processes still running, wait up to ``grace`` seconds,
    then SIGKILL what is left."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    deadline = time.time() + grace
    for proc in procs:
        try:
            proc.wait(max(deadline - time.time(), 0.1))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass(frozen=True)
class LaunchCommand:
    """A command line and the environment variables it adds."""
    argv: List[str]
    env: Dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Launch:
    """How each run is started: itself, or through ``tools/misc/launch.sh``
    (the torchrun / srun lines of ``dist_train.sh`` and ``slurm_train.sh``:
    one node through ``torchrun --standalone``, which picks its own
    rendezvous port).

    Attributes:
        launcher (str): 'none' (one process), 'pytorch' (torchrun, on this
            machine) or 'slurm' (srun: one task per process).
        processes (int): Processes (GPUs) per run.
        partition (str): Slurm partition (``'slurm'`` only).
        gpus_per_node (int): Slurm tasks per node, at most.
        srun_args (tuple): Extra srun arguments (e.g. ``--time=72:00:00``).
    """
    launcher: str = 'none'
    processes: int = 1
    partition: str = ''
    gpus_per_node: int = 8
    srun_args: Tuple[str, ...] = ()

    def command(self, worker: List[str], job_name: str, cuda: bool,
                threads: int = 1) -> LaunchCommand:
        """What starts ``worker`` (``['-m', module, *args]``) under this
        launcher, with this Python; ``threads``: CPUs per Slurm task."""
        if self.launcher == 'none':
            return LaunchCommand([sys.executable, *worker])
        script = ['bash', f'{tools_dir()}/misc/launch.sh']
        env = dict(PYTHON=sys.executable, LAUNCH_NAME='compare_mixing')
        if self.launcher == 'pytorch':
            return LaunchCommand(
                [*script, 'torchrun', str(self.processes), *worker], env)
        per_node = min(self.processes, self.gpus_per_node)
        env.update(GPUS=str(self.processes), GPUS_PER_NODE=str(per_node),
                   GRES=f'gpu:{per_node}' if cuda else '',
                   CPUS_PER_TASK=str(threads),
                   SRUN_ARGS=' '.join(self.srun_args),
                   MASTER_PORT=str(free_port()))  # each run its own
        return LaunchCommand(
            [*script, 'srun', self.partition, job_name, *worker], env)


def train_all(plan: dict, runs, work_dir: str, jobs: int, threads: int,
              launch: Launch = Launch()) -> list:
    """Train the runs not finished yet, ``jobs`` at a time; print progress
    and ETA. Returns the runs that failed."""
    return WorkerPool(plan, runs, work_dir, jobs, threads, launch).run()


class WorkerPool:
    """The worker processes of one coordinator.

    On CUDA with a local launcher, job slot ``k`` owns GPUs ``k*P ..
    (k+1)*P - 1`` (``P`` processes per run) through
    ``CUDA_VISIBLE_DEVICES``; Slurm allocates its own.
    """

    def __init__(self, plan: dict, runs, work_dir: str, jobs: int,
                 threads: int, launch: Launch = Launch()):
        self.plan, self.runs, self.jobs = plan, list(runs), jobs
        self.work_dir, self.threads, self.launch = work_dir, threads, launch
        self.run_dir = {r: run_path(work_dir, r.method, r.seed) for r in runs}
        self.env = dict(os.environ, OMP_NUM_THREADS=str(threads),
                        MKL_NUM_THREADS=str(threads))
        self.cuda = plan['device'] == 'cuda'
        if not self.cuda:
            self.env['CUDA_VISIBLE_DEVICES'] = ''
        self.running, self.failed, self.durations = {}, [], []
        self.log_start = {}
        self.todo, self.start_time = [], 0.

    def run(self) -> list:
        self.todo = [r for r in self.runs
                     if read_result(self.run_dir[r]) is None]
        each = (f'{self.launch.processes} process(es) via '
                f'{self.launch.launcher}' if self.launch.launcher != 'none'
                else f'{self.threads} thread(s)')
        print(f'{len(self.runs) - len(self.todo)} of {len(self.runs)} runs '
              f'already finished; training {len(self.todo)} with '
              f'{self.jobs} job(s) x {each}')
        try:
            self._loop()
        finally:
            stop([proc for proc, _, _, _ in self.running.values()])
        return self.failed

    def _start(self, run, slot: int) -> None:
        os.makedirs(self.run_dir[run], exist_ok=True)
        resumed = resume_point(self.run_dir[run])
        log = open(osp.join(self.run_dir[run], 'run.log'), 'a')
        self.log_start[run] = log.tell()
        worker = ['-m', 'mmsmmix.benchmarks.comparison.run', self.work_dir,
                  run.method, str(run.seed), '--threads', str(self.threads)]
        cmd = self.launch.command(worker, f'compare-{run.method}-'
                                  f'seed{run.seed}', self.cuda, self.threads)
        env = dict(self.env, **cmd.env)
        if self.cuda and self.launch.launcher != 'slurm':
            first = slot * self.launch.processes
            env['CUDA_VISIBLE_DEVICES'] = ','.join(
                str(i) for i in range(first, first + self.launch.processes))
        proc = subprocess.Popen(cmd.argv, stdout=log,
                                stderr=subprocess.STDOUT, env=env,
                                preexec_fn=die_with_parent)
        self.running[run] = (proc, log, time.time(), slot)
        print(f'  resumed {run.name} from {resumed}' if resumed else
              f'  started {run.name}', flush=True)

    def _finished(self, run, proc, began) -> None:
        result = read_result(self.run_dir[run])
        if proc.returncode or result is None:
            self.failed.append(run)
            print(failure(run.name, proc.returncode, self.run_dir[run],
                          self.log_start.get(run, 0)), flush=True)
            return
        self.durations.append(time.time() - began)
        done = len(self.runs) - len(self.todo) - len(self.running) - \
            len(self.failed)
        left = len(self.todo) + len(self.running)
        eta = statistics.fmean(self.durations) * left / self.jobs
        corrupted = ('' if result['corruption_top1'] is None else
                     f", corruption top-1 {result['corruption_top1']:.2f}")
        print(f"[{done}/{len(self.runs)}] {run.name}: top-1 "
              f"{result['top1']:.2f}, ECE {result['ece']:.2f}{corrupted} "
              f'({_hms(self.durations[-1])}); elapsed '
              f'{_hms(time.time() - self.start_time)}, ETA {_hms(eta)}',
              flush=True)

    def _loop(self) -> None:
        self.start_time = last_beat = time.time()
        while self.todo or self.running:
            while self.todo and len(self.running) < self.jobs:
                busy = {slot for *_, slot in self.running.values()}
                self._start(self.todo.pop(0),
                            min(set(range(self.jobs)) - busy))
            time.sleep(1)
            for run, (proc, log, began, _) in list(self.running.items()):
                if proc.poll() is None:
                    continue
                log.close()
                del self.running[run]
                self._finished(run, proc, began)
            if self.running and time.time() - last_beat > 60:
                last_beat = time.time()
                print('  running: ' + ', '.join(
                    f"{r.name} ({_epoch(osp.join(self.run_dir[r], 'run.log'))}"
                    f"/{self.plan['setting']['epochs'] or '?'})"
                    for r in self.running), flush=True)
