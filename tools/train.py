"""Train a model from a config with the mmengine Runner.

Example:
    python tools/train.py \
        configs/fashion_mnist/vit-mini-p7_smmix_1xb64_fmnist.py
    bash tools/dist_train.sh CONFIG GPUS [--amp] [--resume [CKPT]]
    mim train mmsmmix CONFIG [--gpus N --launcher pytorch]
"""
import argparse

from mmengine.config import Config
from mmengine.runner import Runner

import mmsmmix  # noqa: F401  (registers modules, safe checkpoint loader)
from mmsmmix.utils import CheckpointFileError, finish_distributed
from mmsmmix.utils.runner_args import add_runner_args, amp_cfg, load_config


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a classifier')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from CKPT, or from the latest checkpoint in the work '
        'dir when no path is given')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed-precision training: float16 with loss scaling on '
        'CUDA (AmpOptimWrapper); on CPUs bfloat16 where the CPU computes it '
        'natively (AVX512-BF16 or AMX), float32 elsewhere, where it would '
        "be slower (BFloat16AmpOptimWrapper, enabled='auto'); "
        "the SMMix motivating pass stays float32 unless the config's "
        'motivating_dtype says otherwise')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the lr by (real batch size / auto_scale_lr.base)')
    add_runner_args(parser)
    return parser.parse_args(argv)


def apply_train_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply --amp, --resume and --auto-scale-lr to the config."""
    if args.amp:
        amp_cfg(cfg)
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    return cfg


def main(argv=None):
    args = parse_args(argv)
    try:
        cfg = load_config(args, ('train_dataloader', 'val_dataloader'))
    except FileNotFoundError as err:
        raise SystemExit(f'tools/train.py: {err}') from err
    cfg = apply_train_args(cfg, args)
    try:
        Runner.from_cfg(cfg).train()
    except CheckpointFileError as err:  # --resume / load_from
        raise SystemExit(f'tools/train.py: {err}') from err
    finish_distributed()


if __name__ == '__main__':
    main()
