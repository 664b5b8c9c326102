"""Train a model from a config with the mmengine Runner.

Example:
    python tools/train.py \
        configs/fashion_mnist/vit-mini-p7_smmix_1xb64_fmnist.py
    python tools/train.py CONFIG --dry-run   # one step, a summary, no files
    bash tools/dist_train.sh CONFIG GPUS [--amp] [--resume [CKPT]]
    mim train mmsmmix CONFIG [--gpus N --launcher pytorch]
    mmsmmix-train CONFIG   # the installed console script
"""
import argparse

from mmsmmix_cli import add_runner_args, prog_name, run


def parse_args(argv=None) -> argparse.Namespace:
    """The arguments (nothing heavy is imported before they are read)."""
    parser = argparse.ArgumentParser(
        prog=prog_name('tools/train.py'), description='Train a classifier')
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
    parser.add_argument(
        '--dry-run',
        action='store_true',
        help='build the model and the data, run one training step and '
        'print a summary (method, backbone, sizes, iterations per epoch, '
        'step time); writes no checkpoint')
    add_runner_args(parser)
    return parser.parse_args(argv)


def apply_train_args(cfg, args: argparse.Namespace):
    """Apply --amp, --resume and --auto-scale-lr to the config."""
    from mmsmmix.utils.runner_args import amp_cfg
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


def train(argv=None):
    args = parse_args(argv)
    from mmengine.runner import Runner

    import mmsmmix  # noqa: F401  (registers modules, safe checkpoint loader)
    from mmsmmix.utils import check_checkpoint_file, finish_distributed
    from mmsmmix.utils.runner_args import load_config
    cfg = load_config(args, ('train_dataloader', 'val_dataloader'))
    cfg = apply_train_args(cfg, args)
    if cfg.get('load_from'):  # --resume CKPT or the config's: before the
        check_checkpoint_file(cfg.load_from)  # Runner prints anything
    if args.dry_run:
        from mmsmmix.apis import dry_run
        print(dry_run(cfg).summary())
        return
    Runner.from_cfg(cfg).train()
    finish_distributed()


def main(argv=None):
    """``train(argv)``; a user's mistake exits 2 in one line."""
    return run(train, argv, prog='tools/train.py')


if __name__ == '__main__':
    main()
