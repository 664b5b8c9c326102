"""Train a comparison's runs in worker processes, ``jobs`` at a time, with
progress and ETA on stdout.

Workers never outlive the coordinator: each asks the kernel for SIGTERM
when its parent dies (Linux ``PR_SET_PDEATHSIG``, so also after a
``kill -9`` of the coordinator), and a coordinator that stops for any other
reason (Ctrl-C, SIGTERM, an error) terminates its workers and waits for
them. A stopped run resumes from its last checkpoint.
"""
import ctypes
import datetime
import os
import signal
import os.path as osp
import re
import statistics
import subprocess
import sys
import time

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


def _hms(seconds: float) -> str:
    return str(datetime.timedelta(seconds=int(seconds)))


PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In a worker, before exec: SIGTERM when the coordinator dies."""
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


def train_all(plan: dict, runs, work_dir: str, jobs: int,
              threads: int) -> list:
    """Train the runs not finished yet, ``jobs`` at a time; print progress
    and ETA. Returns the runs that failed."""
    return WorkerPool(plan, runs, work_dir, jobs, threads).run()


class WorkerPool:
    """The worker processes of one coordinator."""

    def __init__(self, plan: dict, runs, work_dir: str, jobs: int,
                 threads: int):
        self.plan, self.runs, self.jobs = plan, list(runs), jobs
        self.work_dir, self.threads = work_dir, threads
        self.run_dir = {r: run_path(work_dir, r.method, r.seed) for r in runs}
        self.env = dict(os.environ, OMP_NUM_THREADS=str(threads),
                        MKL_NUM_THREADS=str(threads))
        if plan['device'] == 'cpu':
            self.env['CUDA_VISIBLE_DEVICES'] = ''
        self.running, self.failed, self.durations = {}, [], []

    def run(self) -> list:
        todo = [r for r in self.runs if read_result(self.run_dir[r]) is None]
        print(f'{len(self.runs) - len(todo)} of {len(self.runs)} runs '
              f'already finished; training {len(todo)} with {self.jobs} '
              f'job(s) x {self.threads} thread(s)')
        try:
            self._loop(todo)
        finally:
            stop([proc for proc, _, _ in self.running.values()])
        return self.failed

    def _start(self, run) -> None:
        os.makedirs(self.run_dir[run], exist_ok=True)
        log = open(osp.join(self.run_dir[run], 'run.log'), 'a')
        cmd = [sys.executable, '-m', 'mmsmmix.evaluation.comparison.run',
               self.work_dir, run.method, str(run.seed), '--threads',
               str(self.threads)]
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                env=self.env, preexec_fn=_die_with_parent)
        self.running[run] = (proc, log, time.time())
        print(f'  started {run.name}', flush=True)

    def _finished(self, run, proc, began, todo, start) -> None:
        result = read_result(self.run_dir[run])
        if proc.returncode or result is None:
            self.failed.append(run)
            print(f'  FAILED {run.name} (exit {proc.returncode}); see '
                  f"{osp.join(self.run_dir[run], 'run.log')}", flush=True)
            return
        self.durations.append(time.time() - began)
        done = len(self.runs) - len(todo) - len(self.running) - \
            len(self.failed)
        left = len(todo) + len(self.running)
        eta = statistics.fmean(self.durations) * left / self.jobs
        print(f"[{done}/{len(self.runs)}] {run.name}: top-1 "
              f"{result['top1']:.2f}, ECE {result['ece']:.2f}, "
              f"corruption top-1 {result['corruption_top1']:.2f} "
              f'({_hms(self.durations[-1])}); elapsed '
              f'{_hms(time.time() - start)}, ETA {_hms(eta)}', flush=True)

    def _loop(self, todo: list) -> None:
        start = last_beat = time.time()
        while todo or self.running:
            while todo and len(self.running) < self.jobs:
                self._start(todo.pop(0))
            time.sleep(1)
            for run, (proc, log, began) in list(self.running.items()):
                if proc.poll() is None:
                    continue
                log.close()
                del self.running[run]
                self._finished(run, proc, began, todo, start)
            if self.running and time.time() - last_beat > 60:
                last_beat = time.time()
                print('  running: ' + ', '.join(
                    f"{r.name} ({_epoch(osp.join(self.run_dir[r], 'run.log'))}"
                    f"/{self.plan['setting']['epochs']})"
                    for r in self.running), flush=True)
