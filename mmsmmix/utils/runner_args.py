"""Command-line options shared by tools/train.py and tools/test.py."""
import argparse
import os
import os.path as osp

import torch
from mmengine.config import Config, DictAction

from .data_paths import check_data_paths
from .dist import init_cpu_processes


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """Add --work-dir, --cfg-options, --launcher and --local-rank."""
    parser.add_argument(
        '--work-dir',
        help='where to save logs and checkpoints (default: '
        'work_dirs/<config name>)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value (e.g. '
        'train_cfg.max_epochs=1 train_dataloader.batch_size=32)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_config(args: argparse.Namespace, dataloaders=()) -> Config:
    """Read ``args.config`` and apply the options of ``add_runner_args``.

    The config's path and the datasets of ``dataloaders`` (top-level keys)
    are checked first: ``FileNotFoundError`` (``DataPathError`` for a
    dataset) carries a one-line message for the tool to print.
    """
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    if not osp.isfile(args.config):
        raise FileNotFoundError(
            f'config file {args.config!r} not found (looked for '
            f'{osp.abspath(args.config)})')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    check_data_paths(cfg, dataloaders)
    cfg.launcher = args.launcher
    if args.launcher in ('pytorch', 'slurm') and not torch.cuda.is_available():
        init_cpu_processes(cfg, args.launcher)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


#: Mixed-precision optim wrappers: mmengine's (float16 + GradScaler, GPUs)
#: and ours (bfloat16, any device).
AMP_WRAPPERS = ('AmpOptimWrapper', 'BFloat16AmpOptimWrapper')


def amp_cfg(cfg: Config, cuda: bool = None) -> str:
    """Switch the config's optim wrapper to mixed precision (``--amp``):
    mmengine's ``AmpOptimWrapper`` with dynamic loss scaling on CUDA,
    ``BFloat16AmpOptimWrapper`` otherwise (mmengine's refuses CPUs), with
    ``enabled='auto'``: bfloat16 only where the CPU computes it natively,
    float32 where it would be emulated (and slower). A config that already
    trains in mixed precision is left as it is.

    Args:
        cfg (Config): The run's config.
        cuda (bool, optional): Whether the run trains on CUDA; None: whether
            CUDA is available.

    Returns:
        str: The optim wrapper type now in the config.
    """
    current = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if current in AMP_WRAPPERS:
        print(f'AMP is already enabled in the config ({current}).')
        return current
    if torch.cuda.is_available() if cuda is None else cuda:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    else:
        cfg.optim_wrapper.type = 'BFloat16AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('enabled', 'auto')
    return cfg.optim_wrapper.type
