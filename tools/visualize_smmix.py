"""Show what SMMix does to training pairs: windows, scores, mixed images.

Example:
    python tools/visualize_smmix.py CONFIG --checkpoint CKPT --num 4 \\
        --out work_dirs/demo/smmix_pairs.png
    # a config whose training set is absent (ImageNet): image files instead
    python tools/visualize_smmix.py \\
        configs/smmix/deit-tiny_smmix_4xb256_in1k.py \\
        --images DIR_OR_FILES --out pairs.png

Row i is target i of a batch of 2N with its partner 2N-1-i, mixed by the
real training path (see ``mmsmmix/benchmarks/smmix_pairs.py``); SMMix's
windows in detail, where ``tools/visualize_mixing.py`` draws every method
(SMMix included) side by side. Without
``--checkpoint`` the model is initialised as the Runner would. A model that
is not a ``MixImageClassifier``, or has no SMMix in ``model.train_cfg``, is
probed on its backbone with the SMMix defaults (``attn_stat='patch'``, side
ratios 0.25..0.75). Outlines: cyan = the target's min (destination) window,
green = the partner's max (source) window and the pasted box.
"""
import argparse

from mmsmmix_cli import add_debug_arg, prog_name, run

#: The tool's name in usage and messages (a console script says its own)
TOOL = 'tools/visualize_smmix.py'


def parse_args(argv=None) -> argparse.Namespace:
    """The arguments (nothing heavy is imported before they are read)."""
    from mmengine.config import DictAction  # imports no torch
    parser = argparse.ArgumentParser(
        prog=prog_name(TOOL),
        description='Draw SMMix pairs of the training set')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--checkpoint', help='checkpoint to load (default: untrained model)')
    parser.add_argument(
        '--num', type=int, default=4, help='number of pairs (rows)')
    parser.add_argument(
        '--region-size',
        type=int,
        help='region side r in tokens (default: drawn like in training)')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of samples and draws')
    parser.add_argument(
        '--images',
        nargs='+',
        help='image files or folders to use instead of the training set '
        '(run through the training pipeline)')
    parser.add_argument('--out', required=True, help='output PNG file')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value')
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    if args.num < 1:
        parser.error('--num must be >= 1')
    return args


def visualize(argv=None):
    """Draw the pairs and save the PNG (its path is printed).

    Returns:
        SMMixPairs: What was drawn.
    """
    args = parse_args(argv)
    import os
    import os.path as osp

    from mmengine.logging import MMLogger
    from mmengine.registry import init_default_scope
    from mmengine.runner import set_random_seed

    import mmsmmix  # noqa: F401  (registers modules, safe checkpoint loader)
    from mmsmmix.benchmarks.smmix_pairs import draw_smmix_pairs, find_smmix
    from mmsmmix.models import build_config_model
    from mmsmmix.models.probes import build_attention_probe
    from mmsmmix.utils import UserError
    from mmsmmix.utils.runner_args import read_config
    from mmsmmix.visualization import save_png
    cfg = read_config(args.config, args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    # the 'current' logger: keeps init_weights' per-parameter report quiet
    if not MMLogger.check_instance_created('visualize_smmix'):
        MMLogger.get_instance('visualize_smmix', log_level='WARNING')
    set_random_seed(args.seed)
    # a checkpoint that is not one, or does not fit: its UserError
    model = build_config_model(cfg, args.checkpoint)
    try:
        build_attention_probe(getattr(model, 'backbone', None))
    except TypeError as err:
        raise UserError(f'{args.config}: this model cannot be drawn with '
                        f'SMMix: {err}') from err
    model.eval()
    if not find_smmix(model)[1]:
        print(f'{type(model).__name__} has no SMMix augment in '
              'model.train_cfg; using the SMMix defaults (attn_stat, side '
              'ratios).')
    ckpt = osp.basename(args.checkpoint) if args.checkpoint else 'untrained'
    try:
        pairs = draw_smmix_pairs(
            model, cfg, args.num, args.seed, args.region_size, args.images,
            title=f'SMMix pairs of {osp.basename(args.config)} ({ckpt}): ')
    except UserError:
        raise  # a dataset path
    except (ValueError, FileNotFoundError) as err:
        # a region size training never draws, too few or missing images,
        # no training set
        raise UserError(str(err)) from err
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    save_png(pairs.figure, args.out)
    print(args.out)
    return pairs


def main(argv=None):
    """``visualize(argv)``; a user's mistake exits 2 in one line."""
    return run(visualize, argv, prog=TOOL)


if __name__ == '__main__':
    main()
