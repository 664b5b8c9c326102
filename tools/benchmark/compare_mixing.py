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
import contextlib
import datetime
import os
import os.path as osp
import signal
import sys


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
        '--config-dir', help="folder of the methods' configs (default: "
        'configs/fashion_mnist of this package)')
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
    args = parser.parse_args(argv)
    for name in ('seeds', 'epochs', 'train_images', 'jobs', 'threads'):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.config_dir is None:
        from mmsmmix.registry import config_dir
        args.config_dir = osp.join(config_dir(), 'fashion_mnist')
    jobs = args.jobs or (1 if args.device == 'cuda' else 2)
    threads = args.threads or max(1, (os.cpu_count() or 1) // jobs)
    from mmsmmix.evaluation.comparison import (SETTINGS, WorkDirInUse,
                                               check_methods, config_path,
                                               lock_work_dir,
                                               train_set_size)
    if args.device == 'cuda':
        import torch
        if not torch.cuda.is_available():
            raise SystemExit('--device cuda: no CUDA device is available')
    if not osp.isdir(args.config_dir):
        raise SystemExit(f'--config-dir: {args.config_dir} is not a folder')
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
    size = train_set_size(config_path(args.config_dir, methods[0]))
    if setting['train_images'] > size:
        raise SystemExit(f"--train-images {setting['train_images']}: the "
                         f'training set has {size} images')
    work_dir = osp.abspath(args.work_dir or osp.join(
        'work_dirs', 'compare_mixing' + ('_quick' if args.quick else '')))
    os.makedirs(work_dir, exist_ok=True)
    # SIGTERM ends the coordinator like Ctrl-C: its workers are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    try:
        with (contextlib.nullcontext() if args.report_only else
              lock_work_dir(work_dir)):
            return compare(args, methods, setting, work_dir, jobs, threads)
    except WorkDirInUse as err:
        raise SystemExit(str(err))


def compare(args, methods, setting, work_dir, jobs, threads) -> int:
    """Plan, time, train what is missing and report."""
    from mmsmmix.evaluation.comparison import (TIMING_FILE, load_plan,
                                               measure_timing, plan_runs,
                                               read_json, train_all,
                                               write_json, write_report)
    from mmsmmix.evaluation.timing import machine
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
