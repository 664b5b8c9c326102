"""Window agreement of SMMix's low-precision motivating pass with float32.

For an SMMix config and some of its checkpoints (and its initialisation),
runs the clean pass in float32 and in ``--dtype`` on the same real training
batches and reports the share of images whose destination and source
windows are identical, for every region side. See
``mmsmmix/benchmarks/motivating_pass.py``.

Example:
    python tools/benchmark/motivating_dtype.py \
        configs/fashion_mnist/vit-mini-p7_smmix_1xb64_fmnist.py \
        work_dirs/run/epoch_40.pth --cfg-options model.backbone.patch_size=4
"""
import argparse

from mmsmmix_cli import add_debug_arg, prog_name, run

#: The tool's name in usage and messages (a console script says its own)
TOOL = 'tools/benchmark/motivating_dtype.py'


def parse_args(argv=None) -> argparse.Namespace:
    """The arguments (nothing heavy is imported before they are read;
    ``--dtype`` is checked against SMMix's motivating dtypes after)."""
    from mmengine.config import DictAction  # imports no torch
    parser = argparse.ArgumentParser(
        prog=prog_name(TOOL), description=__doc__.splitlines()[0])
    parser.add_argument('config', help='an SMMix config')
    parser.add_argument('checkpoints', nargs='*',
                        help='checkpoints (the initialisation is always in)')
    parser.add_argument(
        '--dtype', default='bfloat16',
        help="the low-precision pass: one of SMMix's motivating_dtype "
        'values but float32: bfloat16 (default) or float16')
    parser.add_argument('--images', type=int, default=2000,
                        help='first N training images (default 2000)')
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        default={})
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    for name in ('images', 'batch_size'):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    return args


def agreement(argv=None) -> list:
    """Measure and print the table.

    Returns:
        list[tuple]: Its rows.
    """
    args = parse_args(argv)
    import mmsmmix  # noqa: F401  (registers modules)
    from mmsmmix.benchmarks.motivating_pass import window_agreement
    from mmsmmix.models.augments import MOTIVATING_DTYPES
    from mmsmmix.utils import UserError, check_checkpoint_file, markdown_table
    from mmsmmix.utils.runner_args import read_config
    dtypes = [d for d in MOTIVATING_DTYPES if d != 'float32']
    if args.dtype not in dtypes:
        raise UserError(f"--dtype {args.dtype}: choose from "
                        f"{', '.join(dtypes)} (the float32 pass is the "
                        'reference)')
    cfg = read_config(args.config, args.cfg_options)
    for checkpoint in args.checkpoints:  # all of them before measuring
        check_checkpoint_file(checkpoint)
    rows = []
    for checkpoint in [None, *args.checkpoints]:
        print(f"{checkpoint or 'initialisation'} ...", flush=True)
        try:
            r = window_agreement(cfg, checkpoint,
                                 MOTIVATING_DTYPES[args.dtype], args.images,
                                 args.batch_size)
        except UserError:
            raise  # a checkpoint that is not one or does not fit, no data
        except (ValueError, FileNotFoundError) as err:
            # more images than the training set has, no training set
            raise UserError(str(err)) from err
        rows.append((checkpoint or 'initialisation', r['images'],
                     f"{r['agreement']:.2%}",
                     ', '.join(f'{s}: {v:.1%}'
                               for s, v in r['per_side'].items()),
                     f"{r['score_max_abs_diff']:.2e}"))
    print(markdown_table(
        ('weights', 'images', f'windows identical ({args.dtype} vs '
         'float32)', 'per region side', 'max score difference'), rows))
    return rows


def main(argv=None) -> list:
    """``agreement(argv)``; a user's mistake exits 2 in one line."""
    return run(agreement, argv, prog=TOOL)


if __name__ == '__main__':
    main()
