"""Check the GPU training path in a few minutes (also runs on CPU).

Trains 30 AMP steps of the SMMix (with a float32 and a bfloat16 motivating
pass), TransMix, MixPro and RankMixup DeiT-S configs (and CutMix's, the
reference) at 224 px, batch 64, on random images; requires finite losses,
the non-finite guard to refuse a NaN batch under AMP and checkpoints to
reload; then prints images/s of each method's training step relative to
CutMix's (round-robin, one process) and the peak GPU memory of each method.
Exits 1 naming the method and check that failed; 2, in one line, for a
device this machine does not have.

Example:
    python tools/benchmark/cuda_check.py                  # CUDA, DeiT-S
    python tools/benchmark/cuda_check.py --batch-size 32 --json out.json
    python tools/benchmark/cuda_check.py --tiny --device cpu  # seconds
"""
import argparse
import re

from mmsmmix_cli import add_debug_arg, prog_name, run

#: The tool's name in usage and messages (a console script says its own)
TOOL = 'tools/benchmark/cuda_check.py'


def parse_args(argv=None) -> argparse.Namespace:
    """The arguments (nothing heavy is imported before they are read)."""
    parser = argparse.ArgumentParser(
        prog=prog_name(TOOL), description=__doc__.splitlines()[0])
    parser.add_argument('--device', default='cuda',
                        help="'cuda', 'cuda:N' or 'cpu' (default: cuda)")
    parser.add_argument('--tiny', action='store_true',
                        help='the Fashion-MNIST ViT configs instead of '
                        'DeiT-S (a CPU runs it in seconds)')
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--iters', type=int, default=30,
                        help='training steps per method')
    parser.add_argument('--rounds', type=int, default=10,
                        help='timed round-robin rounds')
    parser.add_argument('--no-amp', action='store_true',
                        help='float32 training on CUDA')
    parser.add_argument('--json', help='also write the results here')
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    if not re.fullmatch(r'cpu|cuda(:\d+)?', args.device):
        parser.error(f"--device {args.device}: use 'cuda', 'cuda:N' or 'cpu'")
    return args


def check(argv=None) -> list:
    """Run the check and print its report; a failed check exits 1.

    Returns:
        list[MethodCheck]: What each method did.
    """
    args = parse_args(argv)
    import dataclasses
    import datetime
    import json
    import platform
    import sys

    import torch

    from mmsmmix.benchmarks.cuda_check import (deit_small_setting, report,
                                               run_check, tiny_setting)
    from mmsmmix.utils import UserError
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        raise UserError(f'--device {args.device}: no CUDA device here (torch '
                        f'{torch.__version__}); use --device cpu --tiny')
    index = torch.device(args.device).index
    if index is not None and index >= torch.cuda.device_count():
        raise UserError(f'--device {args.device}: this machine has '
                        f'{torch.cuda.device_count()} CUDA device(s), '
                        f'cuda:0..cuda:{torch.cuda.device_count() - 1}')
    setting = tiny_setting() if args.tiny else deit_small_setting(
        args.batch_size, args.iters, args.rounds)
    amp = args.device.startswith('cuda') and not args.no_amp
    name = (torch.cuda.get_device_name(torch.device(args.device))
            if args.device.startswith('cuda') else platform.processor()
            or platform.machine())
    print(f'cuda_check: {name}, torch {torch.__version__}, '
          f'{datetime.date.today()}', flush=True)
    try:
        checks = run_check(setting, args.device, amp)
    except AssertionError as err:  # what is checked is broken: not a user's
        print(f'cuda_check: FAILED: {err}', file=sys.stderr)
        raise SystemExit(1) from err
    print(report(checks, setting, f'{args.device} ({name})', amp))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(
                dict(device=name, torch=torch.__version__, amp=amp,
                     date=str(datetime.date.today()),
                     setting=dataclasses.asdict(setting),
                     checks=[dataclasses.asdict(c) for c in checks]),
                f, indent=1)
    print('cuda_check: PASSED')
    return checks


def main(argv=None) -> list:
    """``check(argv)``; a user's mistake exits 2 in one line."""
    return run(check, argv, prog=TOOL)


if __name__ == '__main__':
    main()
