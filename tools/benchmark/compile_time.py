"""Time a training step of every Fashion-MNIST method compiled and eager.

Each method's config gives two models with the same weights and seeds, one
eager and one with its forwards compiled as ``--cfg-options compile=True``
compiles them in training (Inductor by default); the compiled one is warmed
up until it compiles nothing more, then all are stepped round-robin in this
process. Prints a Markdown table of step times and compiled/eager ratios.
See ``mmsmmix/benchmarks/compile_timing.py``.

Example:
    python tools/benchmark/compile_time.py --rounds 20 --json compile.json
    python tools/benchmark/compile_time.py --methods nomix,smmix,transmix \
        --backend aot_eager
"""
import argparse

from mmsmmix_cli import add_debug_arg, prog_name, run

#: The tool's name in usage and messages (a console script says its own)
TOOL = 'tools/benchmark/compile_time.py'


def parse_args(argv=None) -> argparse.Namespace:
    """The arguments (nothing heavy is imported before they are read; the
    method names are checked against the benchmark's after)."""
    parser = argparse.ArgumentParser(
        prog=prog_name(TOOL), description=__doc__.splitlines()[0])
    parser.add_argument(
        '--methods',
        help='comma-separated methods of the fashion_mnist comparison suite '
        '(configs/compare_mixing/fashion_mnist.py), by their suite names, '
        'e.g. nomix,cutmix,smmix (default: all)')
    parser.add_argument('--rounds', type=int, default=10,
                        help='measured round-robin rounds (default 10)')
    parser.add_argument('--batch-size', type=int, default=64,
                        help="images per step (default 64, the configs')")
    parser.add_argument('--backend', default=None,
                        help='torch.compile backend (default: inductor)')
    parser.add_argument('--mode', default=None,
                        help='torch.compile mode (e.g. max-autotune)')
    parser.add_argument('--settle', type=int, default=3,
                        help='warm-up ends after this many steps in a row '
                        'without a new graph (default 3)')
    parser.add_argument('--max-warmup', type=int, default=30,
                        help='warm-up steps at most (default 30)')
    parser.add_argument('--threads', type=int, default=0,
                        help='torch threads (default: torch default)')
    parser.add_argument('--note', default='',
                        help='a line printed above the table (e.g. the '
                        "machine's load)")
    parser.add_argument('--json', metavar='FILE',
                        help='also write all numbers to FILE')
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    for name in ('rounds', 'batch_size', 'settle', 'max_warmup'):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    return args


def benchmark(argv=None) -> dict:
    """Run the benchmark and print its table.

    Returns:
        dict: All its numbers (as ``--json`` writes them).
    """
    args = parse_args(argv)
    import json

    import torch

    from mmsmmix.benchmarks import compile_timing
    from mmsmmix.utils import UserError
    methods = (args.methods.split(',') if args.methods is not None else
               list(compile_timing.METHODS))
    unknown = [m for m in methods if m not in compile_timing.METHODS]
    if unknown:
        raise UserError(f'--methods: unknown {unknown}; choose from '
                        f"{', '.join(compile_timing.METHODS)}")
    if args.threads:
        torch.set_num_threads(args.threads)
    compile_cfg = {
        k: v
        for k, v in dict(backend=args.backend, mode=args.mode).items()
        if v is not None
    }
    results = compile_timing.run(
        methods=methods,
        rounds=args.rounds,
        batch_size=args.batch_size,
        compile_cfg=compile_cfg,
        settle=args.settle,
        max_warmup=args.max_warmup)
    print(compile_timing.report(results, args.note))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=2, default=str)
        print(f'\nwrote {args.json}')
    return results


def main(argv=None) -> dict:
    """``benchmark(argv)``; a user's mistake exits 2 in one line."""
    return run(benchmark, argv, prog=TOOL)


if __name__ == '__main__':
    main()
