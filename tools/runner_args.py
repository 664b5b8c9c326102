"""Command-line options shared by tools/train.py and tools/test.py."""
import argparse
import datetime
import os
import os.path as osp

import torch
import torch.distributed as dist
from mmengine.config import Config, DictAction


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


def load_config(args: argparse.Namespace) -> Config:
    """Read ``args.config`` and apply the options of ``add_runner_args``."""
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if args.launcher == 'pytorch' and not torch.cuda.is_available():
        use_cpu_processes(cfg)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


def use_cpu_processes(cfg: Config) -> None:
    """Let ``--launcher pytorch`` run CPU processes (gloo).

    mmengine 0.10.7's pytorch launcher always calls ``torch.cuda.set_device``
    and gives DDP ``device_ids=[LOCAL_RANK]``, both of which fail without
    CUDA. Start the gloo process group here (the Runner reuses an existing
    one), with ``env_cfg.dist_cfg.timeout`` (seconds) as mmengine would, and
    wrap the model without device ids.
    """
    timeout = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('timeout')
    if not dist.is_initialized():
        dist.init_process_group(
            backend='gloo',
            **({} if timeout is None else dict(
                timeout=datetime.timedelta(seconds=timeout))))
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper

