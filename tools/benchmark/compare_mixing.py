"""Compare mixing methods on Fashion-MNIST: same model, data, schedule, seeds.

Trains every method (default: no mixing, Mixup, CutMix, Mixup + CutMix,
ResizeMix, FMix, TransMix, MixPro, SMMix, SMMix + DM, RankMixup) with each
seed, evaluates top-1 and ECE on the test set and the mean top-1 over the
corruptions, times every method's training step against CutMix's (same
process, round-robin) and the cost of its mixing ops, then writes
``comparison.md``, ``comparison.json`` and ``comparison.png`` to the work
dir and says who wins. Finished runs are never retrained: run the same
command again to resume (an interrupted run continues from its last
checkpoint). Runs go to ``--jobs`` worker processes.

Example:
    python tools/benchmark/compare_mixing.py                 # about 1.5 h
    python tools/benchmark/compare_mixing.py --quick         # seconds/run
    python tools/benchmark/compare_mixing.py --methods cutmix,smmix \
        --seeds 5 --epochs 60 --work-dir work_dirs/cmp60
    python tools/benchmark/compare_mixing.py --device cuda --jobs 1
"""
import argparse
import datetime
import json
import os
import os.path as osp
import re
import statistics
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv=None) -> argparse.Namespace:
    from mmsmmix.evaluation.comparison import METHODS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--methods', default=','.join(METHODS),
        help='comma-separated methods (default: all): ' + ', '.join(METHODS))
    parser.add_argument('--quick', action='store_true',
                        help='tiny setting that checks the pipeline')
    parser.add_argument('--seeds', type=int, help='seeds 0..N-1 per method')
    parser.add_argument('--epochs', type=int, help='training epochs')
    parser.add_argument('--train-images', type=int,
                        help='first N training images')
    parser.add_argument('--work-dir', help='default: work_dirs/'
                        'compare_mixing[_quick]')
    parser.add_argument(
        '--config-dir', default=osp.join(REPO, 'configs', 'fashion_mnist'),
        help='folder of the methods\' configs')
    parser.add_argument('--device', choices=['cpu', 'cuda'], default='cpu')
    parser.add_argument(
        '--jobs', type=int,
        help='runs trained at once (default: 2 on CPU, 1 on CUDA)')
    parser.add_argument(
        '--threads', type=int,
        help='torch threads per run (default: CPUs // jobs)')
    parser.add_argument(
        '--report-only', action='store_true',
        help='write the table and chart from the runs finished so far and '
        'exit (trains nothing; e.g. while a comparison is still running)')
    parser.add_argument('--run-one', nargs=2, metavar=('METHOD', 'SEED'),
                        help=argparse.SUPPRESS)  # worker process
    args = parser.parse_args(argv)
    for name in ('seeds', 'epochs', 'train_images', 'jobs', 'threads'):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    return args


def run_one(work_dir: str, method: str, seed: int, threads: int) -> int:
    """Worker: train and evaluate one run (results in its run dir)."""
    import torch

    import mmsmmix  # noqa: F401  (registers modules)
    from mmsmmix.evaluation.comparison import run_planned
    torch.set_num_threads(threads)
    print(json.dumps(run_planned(work_dir, method, seed)))
    return 0


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
    from mmsmmix.evaluation.comparison import read_result
    from mmsmmix.evaluation.comparison import run_dir as run_path
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
            cmd = [sys.executable, osp.abspath(__file__), '--work-dir',
                   work_dir, '--threads', str(threads), '--run-one',
                   run.method, str(run.seed)]
            running[run] = (subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                cwd=REPO), log, time.time())
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


def main(argv=None) -> int:
    args = parse_args(argv)
    jobs = args.jobs or (1 if args.device == 'cuda' else 2)
    threads = args.threads or max(1, (os.cpu_count() or 1) // jobs)
    if args.run_one:
        return run_one(args.work_dir, args.run_one[0], int(args.run_one[1]),
                       threads)

    from mmsmmix.evaluation.comparison import (SETTINGS, TIMING_FILE,
                                               check_methods, config_path,
                                               load_plan, measure_timing,
                                               plan_runs, read_json,
                                               write_json, write_report)
    from mmsmmix.evaluation.timing import machine
    if args.device == 'cuda':
        import torch
        if not torch.cuda.is_available():
            raise SystemExit('--device cuda: no CUDA device is available')
    try:
        methods = check_methods(args.methods.split(','))
        for method in methods:
            config_path(args.config_dir, method)
    except (ValueError, FileNotFoundError) as err:
        raise SystemExit(f'--methods: {err}')
    setting = dict(SETTINGS['quick' if args.quick else 'default'])
    for name in ('seeds', 'epochs', 'train_images'):
        if getattr(args, name):
            setting[name] = getattr(args, name)
    work_dir = osp.abspath(args.work_dir or osp.join(
        'work_dirs', 'compare_mixing' + ('_quick' if args.quick else '')))
    os.makedirs(work_dir, exist_ok=True)
    try:
        plan = load_plan(work_dir, dict(
            setting=setting, device=args.device, methods=methods,
            config_dir=osp.abspath(args.config_dir), machine=machine(),
            date=datetime.date.today().isoformat()))
    except ValueError as err:
        raise SystemExit(str(err))

    timing_path = osp.join(work_dir, TIMING_FILE)
    timing = read_json(timing_path)
    if timing is not None and not set(methods) <= set(timing['methods']):
        timing = None
    if timing is None and args.report_only:
        raise SystemExit(f'--report-only: {timing_path} is missing or lacks '
                         'some of the methods; run the comparison first')
    if timing is None:
        print(f'timing {len(methods)} training steps and their mixing ops '
              '(before any training, on a quiet machine) ...', flush=True)
        import torch
        torch.set_num_threads(threads)
        timing = measure_timing(plan)
        write_json(timing_path, timing)

    runs = plan_runs(methods, range(setting['seeds']))
    failed = [] if args.report_only else train_all(plan, runs, work_dir,
                                                    jobs, threads)
    print()
    print(write_report(plan, runs, work_dir, timing))
    print(f'wrote {osp.join(work_dir, "comparison.md")}, comparison.json '
          'and comparison.png')
    if failed:
        print(f"{len(failed)} run(s) failed: "
              f"{', '.join(r.name for r in failed)}")
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
