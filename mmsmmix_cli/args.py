"""Command-line options shared by the tools."""
import argparse


def add_debug_arg(parser: argparse.ArgumentParser) -> None:
    """``--debug``: the traceback of a user's mistake too (see
    :func:`mmsmmix_cli.run`)."""
    parser.add_argument(
        '--debug',
        action='store_true',
        help="show the traceback of a refused run too (or MMSMMIX_DEBUG=1)")


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """Add --work-dir, --cfg-options, --launcher, --local-rank and --debug
    (tools/train.py, tools/test.py)."""
    from mmengine.config import DictAction  # no torch
    parser.add_argument(
        '--work-dir',
        help='where to save logs and checkpoints (default: '
        'work_dirs/<config name>)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value (e.g. '
        'train_cfg.max_epochs=1 train_dataloader.batch_size=32); a key the '
        'config does not have is refused')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    add_debug_arg(parser)


def add_robustness_args(parser: argparse.ArgumentParser) -> None:
    """Add --occlusion*, --corruption, --severity, --corruption-seed."""
    group = parser.add_argument_group('robustness')
    group.add_argument(
        '--occlusion',
        metavar='RATIOS',
        help='comma-separated shares of patches to drop, e.g. 0,0.25,0.5; '
        'dropped patches are set to 0 after normalisation (the mean)')
    group.add_argument(
        '--occlusion-mode',
        choices=['random', 'attention'],
        default='random',
        help='drop random patches, or the most-attended first (ViTs)')
    group.add_argument(
        '--occlusion-grid',
        type=int,
        metavar='N',
        help='N x N occlusion grid for backbones without a patch grid '
        '(ViTs use their own)')
    group.add_argument(
        '--occlusion-seed', type=int, default=0,
        help='seed of the random patch orders')
    group.add_argument(
        '--corruption',
        metavar='NAMES',
        help='comma-separated corruptions (gaussian_noise, shot_noise, ... '
        'as docs/user_guides/evaluation.md lists them), or all')
    group.add_argument(
        '--severity', type=int, choices=range(1, 6), default=3,
        help='corruption severity 1..5 (default 3)')
    group.add_argument(
        '--corruption-seed', type=int, default=0,
        help='base seed of the corruptions (per sample: seed, sample_idx)')
