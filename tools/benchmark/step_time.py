"""Time one training step of DeiT-Tiny (or Swin-T, PVT-v2-B2) with every
mixing method, in float32 and bfloat16.

All variants (no mixing, MMPretrain's Mixup and CutMix, the SMMix branch
with a float32 or a bfloat16 motivating pass, every other method of the
toolbox) in both training precisions are built in one process and stepped
round-robin, so drifting machine load hits them alike; ratios to CutMix are
medians of per-round ratios. Also reported: SMMix's mixing ops, the
non-finite guard, the clean forward, and the base variants' peak memory in
a fresh process. ``--model swin-tiny`` / ``pvt-v2-b2``: the same from
that model's baseline and SMMix configs (configs/smmix/), its base variants
only. See ``mmsmmix/benchmarks/step_time.py``.

Example:
    python tools/benchmark/step_time.py --rounds 10 --json step_time.json
    python tools/benchmark/step_time.py --variants cutmix,smmix,smmix_bf16 \
        --precision fp32
    python tools/benchmark/step_time.py --model swin-tiny \
        --variants cutmix,smmix,smmix_bf16
"""
import argparse

from mmsmmix_cli import add_debug_arg, prog_name, run

#: The tool's name in usage and messages (a console script says its own)
TOOL = 'tools/benchmark/step_time.py'

#: The variants every run needs (the ratios are to CutMix's step).
NEEDED = ('cutmix', 'smmix')


def parse_args(argv=None) -> argparse.Namespace:
    """The arguments (nothing heavy is imported before they are read; the
    variant and precision names are checked against the benchmark's
    after)."""
    parser = argparse.ArgumentParser(
        prog=prog_name(TOOL), description=__doc__.splitlines()[0])
    parser.add_argument('--rounds', type=int, default=10,
                        help='measured round-robin rounds (default 10)')
    parser.add_argument('--warmup', type=int, default=3,
                        help='unmeasured rounds first (default 3)')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--threads', type=int, default=0,
                        help='torch threads (default: torch default)')
    parser.add_argument('--mix-reps', type=int, default=5,
                        help='mixing-op timings per round (default 5)')
    parser.add_argument('--mem-steps', type=int, default=3,
                        help='steps per memory process (default 3)')
    parser.add_argument('--no-memory', action='store_true',
                        help='skip the per-variant memory processes')
    parser.add_argument(
        '--model', default='deit-tiny',
        help='whose baseline / SMMix config pair of configs/smmix/: '
        'deit-tiny (default), swin-tiny or pvt-v2-b2')
    parser.add_argument(
        '--variants',
        help='comma-separated, cutmix and smmix among them (default: all): '
        'nomix, mixup, cutmix, smmix, smmix_bf16 (the SMMix branch with a '
        'bfloat16 motivating pass) and, on deit-tiny, the other methods of '
        'the imagenet_deit-s comparison suite (configs/compare_mixing/'
        'imagenet_deit-s.py), by their suite names')
    parser.add_argument(
        '--precision', default='fp32,bf16',
        help='training precisions, side by side: fp32 (OptimWrapper) and/or '
        'bf16 (BFloat16AmpOptimWrapper); default both')
    parser.add_argument('--json', metavar='FILE',
                        help='also write all numbers to FILE')
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    for name in ('rounds', 'batch_size', 'mix_reps', 'mem_steps'):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.warmup < 0:
        parser.error('--warmup must be >= 0')
    return args


def benchmark(argv=None) -> dict:
    """Run the benchmark and print its report.

    Returns:
        dict: All its numbers (as ``--json`` writes them).
    """
    args = parse_args(argv)
    import torch

    import mmsmmix  # noqa: F401  (registers modules)
    from mmsmmix.benchmarks import step_time
    from mmsmmix.utils import UserError
    if args.model not in step_time.MODELS:
        raise UserError(f"--model: choose from {', '.join(step_time.MODELS)}"
                        f', got {args.model!r}')
    known = step_time.model_variants(args.model)
    variants = (args.variants.split(',')
                if args.variants is not None else list(known))
    precisions = args.precision.split(',')
    unknown = [v for v in variants if v not in known]
    if unknown or not set(NEEDED) <= set(variants):
        raise UserError(
            f'--variants: unknown {unknown}; cutmix and smmix are needed; '
            f"choose from {', '.join(known)}")
    if set(precisions) - set(step_time.PRECISIONS):
        raise UserError(
            f"--precision: choose from {', '.join(step_time.PRECISIONS)}, "
            f'got {args.precision!r}')
    if args.threads:
        torch.set_num_threads(args.threads)
    results = step_time.run(
        rounds=args.rounds,
        warmup=args.warmup,
        batch_size=args.batch_size,
        mix_reps=args.mix_reps,
        mem_steps=args.mem_steps,
        memory=not args.no_memory,
        threads=args.threads,
        variants=tuple(variants),
        precisions=tuple(precisions),
        model=args.model)
    print(step_time.report(results))
    if args.json:
        step_time.write_json(results, args.json)
        print(f'\nwrote {args.json}')
    return results


def main(argv=None) -> dict:
    """``benchmark(argv)``; a user's mistake exits 2 in one line."""
    return run(benchmark, argv, prog=TOOL)


if __name__ == '__main__':
    main()
