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
import platform
import re
import statistics
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PLAN_FILE = 'plan.json'
TIMING_FILE = 'timing.json'


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
    parser.add_argument('--run-one', nargs=2, metavar=('METHOD', 'SEED'),
                        help=argparse.SUPPRESS)  # worker process
    args = parser.parse_args(argv)
    for name in ('seeds', 'epochs', 'train_images', 'jobs', 'threads'):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    return args


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            names = [ln.split(':', 1)[1].strip() for ln in f
                     if ln.startswith('model name')]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return f'{cpu}, {os.cpu_count()} CPUs'


def load_plan(work_dir: str, plan: dict) -> dict:
    """Keep the work dir's plan; refuse one with another setting."""
    path = osp.join(work_dir, PLAN_FILE)
    if osp.isfile(path):
        with open(path) as f:
            old = json.load(f)
        if old['setting'] != plan['setting'] or \
                old['device'] != plan['device']:
            raise SystemExit(
                f'{path} holds a comparison with another setting or device '
                f"({old['setting']}, {old['device']}); use another "
                '--work-dir or delete that folder')
        plan = dict(old, methods=plan['methods'])
    from mmsmmix.evaluation.comparison import write_json
    write_json(path, plan)
    return plan


def run_one(work_dir: str, method: str, seed: int, threads: int) -> int:
    """Worker: train and evaluate one run (results in its run dir)."""
    import torch
    from mmengine.config import Config

    import mmsmmix  # noqa: F401  (registers modules)
    from mmsmmix.evaluation.comparison import (cfg_options, config_path,
                                               train_and_evaluate)
    torch.set_num_threads(threads)
    with open(osp.join(work_dir, PLAN_FILE)) as f:
        plan = json.load(f)
    cfg = Config.fromfile(config_path(plan['config_dir'], method))
    cfg.merge_from_dict(cfg_options(plan['setting'], seed))
    result = train_and_evaluate(
        cfg, osp.join(work_dir, 'runs', method, f'seed{seed}'),
        plan['setting'])
    print(json.dumps(result))
    return 0


def measure_timing(plan: dict, threads: int) -> dict:
    """Step time of every method and the cost of its mixing ops."""
    import torch
    from mmengine.config import Config

    import mmsmmix  # noqa: F401
    from mmsmmix.evaluation.comparison import (build_model, cfg_options,
                                               config_path,
                                               mixing_op_seconds, real_batch,
                                               step_times)
    torch.set_num_threads(threads)
    device = torch.device(plan['device'])
    setting = plan['setting']
    models, augments, data = {}, {}, None
    for method in plan['methods']:
        cfg = Config.fromfile(config_path(plan['config_dir'], method))
        cfg.merge_from_dict(cfg_options(setting, 0))
        models[method] = build_model(cfg, device)
        augments[method] = getattr(models[method][0], 'augments', [])
        if data is None:
            data = real_batch(cfg.train_dataloader.dataset,
                              cfg.train_dataloader.batch_size)
    times = step_times(models, data, device, setting['timing_rounds'],
                       setting['timing_warmup'])
    mixing = {}
    reps = max(setting['timing_rounds'], 3)
    for method, augs in augments.items():
        if not augs:
            mixing[method] = 0.
            continue
        model = models[method][0]
        # expected cost per step: each augment's mean, weighted by its
        # probability (the remaining probability mixes nothing)
        probs = model.augment_probs
        if probs is None:
            probs = [1 / len(augs)] * len(augs)
        mixing[method] = sum(
            p * statistics.fmean(
                mixing_op_seconds(model, aug, data, device)
                for _ in range(reps)) for p, aug in zip(probs, augs))
    return dict(
        methods=list(plan['methods']),
        step_s=times,
        mixing_s=mixing,
        batch_size=len(data['inputs']),
        threads=threads,
        device=plan['device'])


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
    run_dir = {r: osp.join(work_dir, 'runs', r.method, f'seed{r.seed}')
               for r in runs}
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


def report(plan: dict, runs, work_dir: str, timing: dict) -> str:
    from mmsmmix.evaluation.comparison import (markdown_table, plot,
                                               read_result, summarise,
                                               verdict, write_json)
    results = {}
    for run in runs:
        result = read_result(
            osp.join(work_dir, 'runs', run.method, f'seed{run.seed}'))
        if result is not None:
            results.setdefault(run.method, []).append(result)
    rows = summarise(plan['methods'], results, timing)
    s = plan['setting']
    grid = 28 // s['patch_size']
    what = (f"Fashion-MNIST, first {s['train_images']} training images, "
            f"{s['epochs']} epochs, ViT-mini patch {s['patch_size']} "
            f"({grid}x{grid} tokens), seeds 0..{s['seeds'] - 1}; top-1 and "
            f"ECE on {s['test_images'] or 10000} test images, corruption "
            f"top-1 = mean over {s['corruptions']} (severity {s['severity']})"
            f" on the first {s['corruption_images']}")
    when = (f"{plan['date']}; {plan['machine']}; device {plan['device']}; "
            f"step time: mean of {s['timing_rounds']} round-robin steps of "
            f"batch {timing['batch_size']} at {timing['threads']} thread(s)")
    table = markdown_table(rows)
    text = f'{what}.\n\n{when}.\n\n{table}\n\n{verdict(rows)}\n'
    with open(osp.join(work_dir, 'comparison.md'), 'w') as f:
        f.write(text)
    write_json(osp.join(work_dir, 'comparison.json'),
               dict(plan=plan, rows=rows, timing=timing))
    plot(rows, osp.join(work_dir, 'comparison.png'),
         title=what.split('; top-1')[0])
    worst = max((r['mixing_share'] or 0 for r in rows), default=0)
    text += (f"\nMixing ops cost at most {worst:.2%} of a training step "
             f"({'PASS' if worst < 0.02 else 'FAIL'}: target < 2%).\n")
    return text


def main(argv=None) -> int:
    args = parse_args(argv)
    jobs = args.jobs or (1 if args.device == 'cuda' else 2)
    threads = args.threads or max(1, (os.cpu_count() or 1) // jobs)
    if args.run_one:
        return run_one(args.work_dir, args.run_one[0], int(args.run_one[1]),
                       threads)

    from mmsmmix.evaluation.comparison import (SETTINGS, check_methods,
                                               config_path, plan_runs,
                                               write_json)
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
    plan = load_plan(work_dir, dict(
        setting=setting, device=args.device, methods=methods,
        config_dir=osp.abspath(args.config_dir), machine=machine(),
        date=datetime.date.today().isoformat()))

    timing_path = osp.join(work_dir, TIMING_FILE)
    timing = None
    if osp.isfile(timing_path):
        with open(timing_path) as f:
            timing = json.load(f)
        if not set(methods) <= set(timing['methods']):
            timing = None
    if timing is None:
        print(f'timing {len(methods)} training steps and their mixing ops '
              '(before any training, on a quiet machine) ...', flush=True)
        timing = measure_timing(plan, threads)
        write_json(timing_path, timing)

    runs = plan_runs(methods, range(setting['seeds']))
    failed = train_all(plan, runs, work_dir, jobs, threads)
    print()
    print(report(plan, runs, work_dir, timing))
    print(f'wrote {osp.join(work_dir, "comparison.md")}, comparison.json '
          'and comparison.png')
    if failed:
        print(f"{len(failed)} run(s) failed: "
              f"{', '.join(r.name for r in failed)}")
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
