"""Time one training step of DeiT-Tiny with every mixing method, in float32
and bfloat16.

All variants (no mixing, MMPretrain's Mixup and CutMix, the SMMix branch
with a float32 or a bfloat16 motivating pass, every other method of the
toolbox) in both training precisions are built in one process and stepped
round-robin, so drifting machine load hits them alike; ratios to CutMix are
medians of per-round ratios. Also reported: SMMix's mixing ops, the
non-finite guard, the clean forward, and the base variants' peak memory in
a fresh process. See ``mmsmmix/benchmarks/step_time.py``.

Example:
    python tools/benchmark/step_time.py --rounds 10 --json step_time.json
    python tools/benchmark/step_time.py --variants cutmix,smmix,smmix_bf16 \
        --precision fp32
"""
import argparse
import sys

import torch

import mmsmmix  # noqa: F401  (registers modules)
from mmsmmix.benchmarks import step_time


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
        '--variants', default=','.join(step_time.VARIANTS),
        help='comma-separated (default: all): ' +
        ', '.join(step_time.VARIANTS))
    parser.add_argument(
        '--precision', default='fp32,bf16',
        help='training precisions, side by side: fp32 (OptimWrapper) and/or '
        'bf16 (BFloat16AmpOptimWrapper); default both')
    parser.add_argument('--json', metavar='FILE',
                        help='also write all numbers to FILE')
    args = parser.parse_args(argv)
    for name in ('rounds', 'batch_size', 'mix_reps', 'mem_steps'):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.warmup < 0:
        parser.error('--warmup must be >= 0')
    variants = args.variants.split(',')
    precisions = args.precision.split(',')
    unknown = [v for v in variants if v not in step_time.VARIANTS]
    if unknown or not {'cutmix', 'smmix'} <= set(variants):
        parser.error(f'--variants: unknown {unknown}; cutmix and smmix are '
                     f"needed; choose from {', '.join(step_time.VARIANTS)}")
    if not precisions or set(precisions) - set(step_time.PRECISIONS):
        parser.error(f'--precision: choose from fp32, bf16, got '
                     f'{args.precision!r}')
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
        precisions=tuple(precisions))
    print(step_time.report(results))
    if args.json:
        step_time.write_json(results, args.json)
        print(f'\nwrote {args.json}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
