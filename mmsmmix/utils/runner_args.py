"""What tools/train.py and tools/test.py do with their shared options
(``mmsmmix_cli.add_runner_args`` defines them)."""
import argparse
import os
import os.path as osp
from typing import Optional

import torch
from mmengine.config import Config

from .data_paths import check_data_paths
from .dist import init_cpu_processes
from .errors import UserError
from .preflight import preflight


class ConfigFileError(UserError, FileNotFoundError):
    """The config file given does not exist."""


def read_config(name: str, cfg_options: Optional[dict] = None) -> Config:
    """The config ``name`` (a path or ``PACKAGE::path``) with the
    command line's ``cfg_options`` merged, checked before anything is built
    or printed (:func:`~mmsmmix.utils.preflight.preflight`).

    Raises:
        ConfigFileError: No such file.
        ConfigError: A type not registered, an option key the config does
            not have, a value of the wrong type, evaluation on the training
            files.
    """
    from mmsmmix.registry import resolve_config
    path = resolve_config(name)
    if not osp.isfile(path):
        raise ConfigFileError(f'config file {name!r} not found (looked for '
                              f'{osp.abspath(path)})')
    cfg = Config.fromfile(path)
    preflight(cfg, cfg_options)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def load_config(args: argparse.Namespace, dataloaders=()) -> Config:
    """Read ``args.config`` (:func:`read_config`) and apply the options of
    ``mmsmmix_cli.add_runner_args``; the datasets of ``dataloaders``
    (top-level keys) are checked too (``DataPathError``)."""
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    cfg = read_config(args.config, args.cfg_options)
    check_data_paths(cfg, dataloaders)
    cfg.launcher = args.launcher
    if args.launcher in ('pytorch', 'slurm') and not torch.cuda.is_available():
        init_cpu_processes(cfg, args.launcher)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(cfg.filename))[0])
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


def __getattr__(name):
    # add_runner_args moved to mmsmmix_cli (deprecated alias)
    from .moved import moved_attribute
    return moved_attribute(__name__, name)
