"""Train a comparison's runs in worker processes, ``jobs`` at a time, with
progress and ETA on stdout."""
import datetime
import os
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


def train_all(plan: dict, runs, work_dir: str, jobs: int,
              threads: int) -> list:
    """Train the runs not finished yet, ``jobs`` at a time; print progress
    and ETA. Returns the runs that failed."""
    run_dir = {r: run_path(work_dir, r.method, r.seed) for r in runs}
    todo = [r for r in runs if read_result(run_dir[r]) is None]
    print(f'{len(runs) - len(todo)} of {len(runs)} runs already finished; '
          f'training {len(todo)} with {jobs} job(s) x {threads} thread(s)')
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    if plan['device'] == 'cpu':
        env['CUDA_VISIBLE_DEVICES'] = ''
    running, failed, durations = {}, [], []
    start = time.time()
    last_beat = start
    while todo or running:
        while todo and len(running) < jobs:
            run = todo.pop(0)
            os.makedirs(run_dir[run], exist_ok=True)
            log = open(osp.join(run_dir[run], 'run.log'), 'a')
            cmd = [sys.executable, '-m', 'mmsmmix.evaluation.comparison.run',
                   work_dir, run.method, str(run.seed), '--threads',
                   str(threads)]
            running[run] = (subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, env=env), log,
                            time.time())
            print(f'  started {run.name}', flush=True)
        time.sleep(1)
        for run, (proc, log, began) in list(running.items()):
            if proc.poll() is None:
                continue
            log.close()
            del running[run]
            result = read_result(run_dir[run])
            if proc.returncode or result is None:
                failed.append(run)
                print(f'  FAILED {run.name} (exit {proc.returncode}); see '
                      f"{osp.join(run_dir[run], 'run.log')}", flush=True)
                continue
            durations.append(time.time() - began)
            done = len(runs) - len(todo) - len(running) - len(failed)
            left = len(todo) + len(running)
            eta = statistics.fmean(durations) * left / jobs
            print(f"[{done}/{len(runs)}] {run.name}: top-1 "
                  f"{result['top1']:.2f}, ECE {result['ece']:.2f}, "
                  f"corruption top-1 {result['corruption_top1']:.2f} "
                  f'({_hms(durations[-1])}); elapsed '
                  f'{_hms(time.time() - start)}, ETA {_hms(eta)}',
                  flush=True)
        if running and time.time() - last_beat > 60:
            last_beat = time.time()
            print('  running: ' + ', '.join(
                f"{r.name} ({_epoch(osp.join(run_dir[r], 'run.log'))}/"
                f"{plan['setting']['epochs']})" for r in running),
                flush=True)
    return failed
