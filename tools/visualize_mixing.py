"""Show what each mixing method does to training pairs, as training does it.

Example:
    python tools/visualize_mixing.py \\
        configs/fashion_mnist/vit-mini-p7_smmix_1xb64_fmnist.py \\
        configs/fashion_mnist/vit-mini-p7_cutmix_1xb64_fmnist.py \\
        --checkpoint work_dirs/demo/epoch_8.pth --num 2 --out mixing.png

Every augment of every config's model mixes the same 2N training images
through the classifier's own training path (``model.mix`` then
``model.forward_mixed``; see ``mmsmmix/benchmarks/mixing_pairs.py``). One
block per augment, N rows, each an image i with its partner j (images a
random permutation paired with themselves last): i, j, the mixed image
with the border of j's pixels outlined in green, the share of j in each
pixel, the attention the method read (SMMix: the unmixed batch; TransMix,
MixPro's PAL: the mixed forward) and the label weights the head trains on
(after relabelling). The i-th checkpoint loads
into the i-th config (strictly); configs without one, or with ``none``,
are drawn untrained. The label weights are also printed, then the PNG's
path.
"""
import argparse

from mmsmmix_cli import add_debug_arg, prog_name, run

#: The tool's name in usage and messages (a console script says its own)
TOOL = 'tools/visualize_mixing.py'

DEFAULT_OUT = 'work_dirs/visualize_mixing/mixing_methods.png'


def parse_args(argv=None) -> argparse.Namespace:
    """The arguments (nothing heavy is imported before they are read)."""
    from mmengine.config import DictAction  # imports no torch
    parser = argparse.ArgumentParser(
        prog=prog_name(TOOL),
        description='Draw training pairs of every mixing method')
    parser.add_argument('configs', nargs='+', metavar='CONFIG',
                        help='train config files')
    parser.add_argument(
        '--checkpoint', nargs='+', default=[], metavar='CKPT',
        help="checkpoints of the first configs, in order ('none': "
        'untrained); the other configs are drawn untrained')
    parser.add_argument(
        '--num', type=int, default=2, help='pairs (rows) per augment')
    parser.add_argument(
        '--seed', type=int, default=0,
        help='seed of the images, the initial weights and the draws')
    parser.add_argument(
        '--images', nargs='+',
        help='image files or folders to use instead of the training set '
        '(run through the training pipeline)')
    parser.add_argument(
        '--columns', type=int,
        help='columns of blocks (default: 1 up to three blocks, else 2)')
    parser.add_argument('--out', default=DEFAULT_OUT,
                        help=f'output PNG file (default: {DEFAULT_OUT})')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of every config, key=value')
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    if args.num < 1:
        parser.error('--num must be >= 1')
    if len(args.checkpoint) > len(args.configs):
        parser.error(f'--checkpoint: {len(args.checkpoint)} checkpoints for '
                     f'{len(args.configs)} configs')
    return args


def visualize(argv=None) -> list:
    """Draw, print and save (the PNG's path is printed last).

    Returns:
        list[ConfigDraws]: The draws of each config.
    """
    args = parse_args(argv)
    import os
    import os.path as osp

    from mmengine.logging import MMLogger
    from mmengine.registry import init_default_scope

    import mmsmmix  # noqa: F401  (registers modules, safe checkpoint loader)
    from mmsmmix.benchmarks.mixing_pairs import (draw_config, mixing_figure,
                                                 print_lines)
    from mmsmmix.utils import UserError, check_checkpoint_file
    from mmsmmix.utils.runner_args import read_config
    from mmsmmix.visualization import save_png
    checkpoints = [None if c.lower() == 'none' else c
                   for c in args.checkpoint]
    checkpoints += [None] * (len(args.configs) - len(checkpoints))
    # every config and checkpoint before the first drawing
    cfgs = [read_config(config, args.cfg_options) for config in args.configs]
    for checkpoint in checkpoints:
        if checkpoint:
            check_checkpoint_file(checkpoint)
    if not MMLogger.check_instance_created('visualize_mixing'):
        MMLogger.get_instance('visualize_mixing', log_level='WARNING')
    drawn = []
    for config, cfg, checkpoint in zip(args.configs, cfgs, checkpoints):
        init_default_scope(cfg.get('default_scope', 'mmpretrain'))
        try:
            drawn.append(draw_config(cfg, config, args.num, args.seed,
                                     checkpoint, args.images))
        except UserError:
            raise  # a checkpoint that is not one or does not fit, no data
        except (FileNotFoundError, ValueError) as err:
            # a model that mixes nothing, too few or missing images, no
            # training set
            raise UserError(str(err)) from err
        print('\n'.join(print_lines(drawn[-1], args.num)))
    figure, _ = mixing_figure(
        drawn, columns=args.columns,
        title=f'Mixing methods: one training draw each, on the same '
        f'{2 * args.num} training images (seed {args.seed})')
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    save_png(figure, args.out)
    print(args.out)
    return drawn


def main(argv=None) -> list:
    """``visualize(argv)``; a user's mistake exits 2 in one line."""
    return run(visualize, argv, prog=TOOL)


if __name__ == '__main__':
    main()
