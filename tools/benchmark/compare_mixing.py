"""Compare mixing methods: same model, data, schedule and seeds for each.

A comparison is a suite (``--suite``): its methods and their configs, the
overrides every run shares, and the evaluation. Shipped: ``fashion_mnist``
(the default, on this package's CPU setting), ``cifar100_deit-s`` and
``imagenet_deit-s``; or a suite file of your own (configs/compare_mixing/
shows the format). Every method is trained with each seed, evaluated (top-1
and ECE; the suite's corruptions), its training step timed against
CutMix's; ``comparison.md``, ``.json`` and ``.png`` in the work dir say who
wins. Finished runs are never retrained: run the same command again to
resume or to add seeds. A run is one process, or ``--gpus-per-run N``
through torchrun (``--launcher pytorch``) or srun (``--launcher slurm``);
``--collect`` takes runs trained elsewhere by tools/train.py.

Example (more in docs/user_guides/compare_mixing.md):
    python tools/benchmark/compare_mixing.py                 # about 2.5 h
    python tools/benchmark/compare_mixing.py --quick         # seconds/run
    python tools/benchmark/compare_mixing.py --suite cifar100_deit-s \
        --device cuda --launcher pytorch --gpus-per-run 8
"""
import argparse
import contextlib
import os
import os.path as osp
import signal
import sys

from mmsmmix_cli import add_debug_arg, prog_name, run

#: The tool's name in usage and messages (a console script says its own)
TOOL = 'tools/benchmark/compare_mixing.py'


def parse_args(argv=None) -> argparse.Namespace:
    """The options, parsed before torch, OpenMMLab or mmsmmix is imported
    (mmengine's ``DictAction`` imports none of them)."""
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        prog=prog_name(TOOL), description=__doc__.splitlines()[0])
    parser.add_argument(
        '--suite', default='fashion_mnist',
        help='fashion_mnist (default), fashion_mnist_swin, '
        'fashion_mnist_pvt-v2, cifar100_deit-s, imagenet_deit-s, or a suite '
        'file')
    parser.add_argument('--setting', default='default',
                        help="the suite's setting (default: 'default')")
    parser.add_argument('--quick', action='store_true',
                        help="--setting quick: checks the pipeline")
    parser.add_argument('--methods',
                        help="comma-separated methods (default: the suite's)")
    parser.add_argument('--seeds', type=int, help='seeds 0..N-1 per method')
    parser.add_argument('--epochs', type=int, help='training epochs')
    parser.add_argument('--train-images', type=int,
                        help='first N training images')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, default={},
        help='key=value overrides applied to every run (e.g. a data root)')
    parser.add_argument('--work-dir', help='default: work_dirs/'
                        'compare_mixing_<suite>[_<setting>]')
    parser.add_argument('--device', choices=['cpu', 'cuda'], default='cpu')
    parser.add_argument(
        '--jobs', type=int,
        help='runs trained at once (default: 2 on CPU, 1 on CUDA)')
    parser.add_argument(
        '--threads', type=int,
        help='torch threads per run (default: CPUs // jobs)')
    launch = parser.add_argument_group('processes per run')
    launch.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'],
                        default='none',
                        help='start each run with torchrun or srun')
    launch.add_argument('--gpus-per-run', type=int, default=1,
                        help='processes (GPUs) per run')
    launch.add_argument('--partition', help='Slurm partition')
    launch.add_argument('--gpus-per-node', type=int, default=8,
                        help='Slurm tasks per node (default 8)')
    launch.add_argument('--srun-args', default='',
                        help='extra srun arguments, e.g. "--time=72:00:00"')
    timing = parser.add_argument_group('step timing (before any training)')
    timing.add_argument('--no-timing', action='store_true',
                        help='skip the step-time measurement')
    timing.add_argument(
        '--timing-rounds', type=int,
        help="round-robin rounds of training steps measured (default: the "
        "suite setting's timing_rounds)")
    timing.add_argument(
        '--timing-warmup', type=int,
        help="unmeasured rounds first (default: the setting's "
        'timing_warmup, else a tenth of the rounds, at least 1)')
    parser.add_argument(
        '--print-commands', action='store_true',
        help='print the tools/train.py command of every unfinished run (to '
        'train them with your own scheduler, then --collect) and exit')
    parser.add_argument(
        '--collect', nargs='+', metavar='WORK_DIR',
        help='evaluate runs trained by tools/train.py (one work dir each: '
        'its dumped config names the method, randomness.seed the seed) '
        'and report them with the finished runs; trains nothing')
    parser.add_argument(
        '--report-only', action='store_true',
        help='write the table and chart from the runs finished so far and '
        'exit (trains nothing; e.g. while a comparison is still running)')
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    for name in ('seeds', 'epochs', 'train_images', 'jobs', 'threads',
                 'gpus_per_run', 'gpus_per_node', 'timing_rounds'):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.timing_warmup is not None and args.timing_warmup < 0:
        parser.error('--timing-warmup must be >= 0')
    if args.quick:
        args.setting = 'quick'
    if args.launcher == 'none' and args.gpus_per_run > 1:
        parser.error('--gpus-per-run > 1 needs --launcher pytorch or slurm')
    if args.launcher == 'slurm' and not args.partition:
        parser.error('--launcher slurm needs --partition')
    if args.collect and args.report_only:
        parser.error('--collect and --report-only: give one')
    return args


def main(argv=None) -> int:
    """``comparison(argv)``; a user's mistake (a misspelt method, a work dir
    that holds another comparison, ...) exits 2 in one line."""
    return run(comparison, argv, prog=TOOL)


def comparison(argv=None) -> int:
    """Check the options, then compare (see :func:`compare`)."""
    args = parse_args(argv)
    from mmsmmix.benchmarks.comparison import (ComparisonError, check_methods,
                                               load_suite, lock_work_dir)
    try:
        suite = load_suite(args.suite)
    except (FileNotFoundError, ValueError) as err:
        raise ComparisonError(f'--suite: {err}') from err
    try:
        setting = suite.setting(
            args.setting, args.cfg_options, seeds=args.seeds,
            epochs=args.epochs, train_images=args.train_images,
            timing_rounds=args.timing_rounds,
            timing_warmup=args.timing_warmup)
    except KeyError as err:
        raise ComparisonError(f'--setting: {err.args[0]}') from err
    except ValueError as err:
        raise ComparisonError(f'--cfg-options: {err}') from err
    try:
        methods = check_methods((args.methods or ','.join(suite.methods))
                                .split(','), suite)
    except ComparisonError as err:
        raise ComparisonError(f'--methods: {err}') from err
    if args.device == 'cuda' and args.launcher != 'slurm':
        import torch
        if not torch.cuda.is_available():
            raise ComparisonError('--device cuda: no CUDA device is '
                                  'available')
    if args.launcher == 'slurm':
        import shutil
        if shutil.which('srun') is None:
            raise ComparisonError('--launcher slurm: srun is not on PATH')
    work_dir = osp.abspath(args.work_dir or osp.join(
        'work_dirs', f'compare_mixing_{suite.name}' +
        ('' if args.setting == 'default' else f'_{args.setting}')))
    os.makedirs(work_dir, exist_ok=True)
    # SIGTERM ends the coordinator like Ctrl-C: its workers are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    with (contextlib.nullcontext() if args.report_only else
          lock_work_dir(work_dir)):
        return compare(args, suite, methods, setting, work_dir)


def compare(args, suite, methods, setting, work_dir) -> int:
    """Plan, time, train (or collect) what is missing and report."""
    import datetime

    from mmsmmix.benchmarks.comparison import (ComparisonError, Launch,
                                               check_data, collect, load_plan,
                                               make_plan, plan_runs, timing_of,
                                               train_all, train_commands,
                                               write_report)
    from mmsmmix.benchmarks.timing import machine
    from mmsmmix.utils.errors import UserError
    plan = make_plan(suite, methods, setting, device=args.device,
                     machine=machine(),
                     date=datetime.date.today().isoformat())
    if not args.report_only:
        check_data(plan)  # before the work dir is written to
    plan = load_plan(work_dir, plan)
    runs = plan_runs(methods, range(setting['seeds']))
    if args.print_commands:
        print('\n'.join(train_commands(plan, runs, work_dir, osp.join(
            osp.dirname(osp.dirname(osp.abspath(__file__))), 'train.py'))))
        return 0
    for src in args.collect or ():
        print(f'collecting {src} ...', flush=True)
        try:
            done, result = collect(plan, src, work_dir)
        except UserError:
            raise
        except (ValueError, FileNotFoundError) as err:
            raise ComparisonError(str(err)) from err
        print(f'  {done.name}: top-1 {result["top1"]:.2f}', flush=True)
        runs += [done] if done not in runs else []

    timing = None if args.no_timing else timing_of(
        plan, work_dir, jobs_threads(args)[1],
        measure=not (args.report_only or args.collect))
    failed = [] if args.report_only or args.collect else train_all(
        plan, runs, work_dir, *jobs_threads(args),
        Launch(args.launcher, args.gpus_per_run, args.partition or '',
               args.gpus_per_node, tuple(args.srun_args.split())))
    print()
    print(write_report(plan, runs, work_dir, timing))
    print(f'wrote {osp.join(work_dir, "comparison.md")}, comparison.json '
          'and comparison.png')
    if failed:
        print(f"{len(failed)} run(s) failed: "
              f"{', '.join(r.name for r in failed)}")
        return 1
    return 0


def jobs_threads(args) -> tuple:
    jobs = args.jobs or (1 if args.device == 'cuda' else 2)
    cpus = max(1, (os.cpu_count() or 1) // (jobs * args.gpus_per_run))
    return jobs, args.threads or cpus


if __name__ == '__main__':
    sys.exit(main())
