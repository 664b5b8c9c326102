"""Robustness options of tools/test.py: occlusion and corruption testing.

``add_robustness_args`` adds the flags, ``check_robustness_args`` validates
them, ``apply_robustness`` swaps the
config's test loop for ``OcclusionTestLoop`` or ``CorruptionTestLoop`` and
``report_robustness`` prints a markdown table and writes ``occlusion.json``
and ``occlusion.png`` or ``corruption.json`` in the work dir.
"""
import argparse
import json
import os.path as osp
from typing import List, Optional

from mmengine.config import Config
from mmengine.dist import is_main_process

from mmsmmix.evaluation.robustness import (CORRUPTIONS, num_dropped,
                                           parse_corruptions)


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
        help='comma-separated corruptions, or all: ' + ', '.join(CORRUPTIONS))
    group.add_argument(
        '--severity', type=int, choices=range(1, 6), default=3,
        help='corruption severity 1..5 (default 3)')
    group.add_argument(
        '--corruption-seed', type=int, default=0,
        help='base seed of the corruptions (per sample: seed, sample_idx)')


def parse_ratios(text: str) -> List[float]:
    """``'0,0.1,0.5'`` -> ``[0.0, 0.1, 0.5]``; each in [0, 1]."""
    ratios = [float(r) for r in text.split(',') if r.strip()]
    if not ratios:
        raise ValueError('--occlusion needs at least one ratio')
    for r in ratios:
        num_dropped(r, 1)
    return ratios


def check_robustness_args(parser: argparse.ArgumentParser,
                          args: argparse.Namespace) -> None:
    """Exit through ``parser.error`` on inconsistent robustness options."""
    if args.occlusion and args.corruption:
        parser.error('--occlusion and --corruption are separate runs')
    if (args.occlusion or args.corruption) and getattr(args, 'out', None):
        parser.error('--out dumps plain test predictions; it cannot be '
                     'combined with --occlusion or --corruption')
    try:
        if args.occlusion:
            parse_ratios(args.occlusion)
        if args.corruption:
            parse_corruptions(args.corruption)
    except (KeyError, ValueError) as e:
        flag = '--occlusion' if args.occlusion else '--corruption'
        parser.error(f'{flag}: {e}')
    if args.occlusion_grid is not None and args.occlusion_grid < 1:
        parser.error('--occlusion-grid must be >= 1')


def apply_robustness(cfg: Config, args: argparse.Namespace) -> Optional[str]:
    """Put the robustness test loop into ``cfg.test_cfg``.

    Args:
        cfg (Config): The test config, modified in place.
        args (Namespace): Options checked by ``check_robustness_args``.

    Returns:
        str | None: ``'occlusion'``, ``'corruption'`` or None (plain test).
    """
    if not (args.occlusion or args.corruption):
        return None
    test_cfg = dict(cfg.get('test_cfg') or {})
    if args.occlusion:
        test_cfg.update(
            type='OcclusionTestLoop',
            ratios=parse_ratios(args.occlusion),
            mode=args.occlusion_mode,
            grid=args.occlusion_grid,
            seed=args.occlusion_seed)
    else:
        test_cfg.update(
            type='CorruptionTestLoop',
            corruptions=parse_corruptions(args.corruption),
            severity=args.severity,
            seed=args.corruption_seed)
    cfg.test_cfg = test_cfg
    return 'occlusion' if args.occlusion else 'corruption'


def _fmt(value) -> str:
    return f'{value:.2f}' if isinstance(value, (int, float)) else str(value)


def _top1_key(metrics: dict) -> str:
    keys = [k for k in metrics if k.endswith('top1')]
    return keys[0] if keys else next(iter(metrics))


def report_robustness(kind: str, loop, work_dir: str,
                      args: argparse.Namespace) -> None:
    """Print the table and write the JSON (and PNG) into ``work_dir``."""
    if not is_main_process():
        return
    meta = dict(config=args.config, checkpoint=args.checkpoint)
    if kind == 'occlusion':
        keys = list(next(iter(loop.results.values())))
        n = loop.num_patches
        rows = [[f'{r:g}', f'{num_dropped(r, n)}/{n}',
                 *(_fmt(m[k]) for k in keys)] for r, m in loop.results.items()]
        header = ['ratio', 'dropped', *keys]
        report = dict(
            meta,
            mode=loop.mode,
            seed=loop.seed,
            num_patches=n,
            ratios=list(loop.results),
            dropped=[num_dropped(r, n) for r in loop.results],
            metrics={f'{r:g}': m for r, m in loop.results.items()})
        _plot_occlusion(loop, osp.join(work_dir, 'occlusion.png'),
                        _top1_key(next(iter(loop.results.values()))))
    else:
        results = dict(loop.results)
        keys = list(next(iter(results.values())))
        mean = loop.mean
        rows = [[name, *(_fmt(m[k]) for k in keys)]
                for name, m in results.items()]
        rows.append(['**mean**', *(_fmt(mean.get(k, '')) for k in keys)])
        header = ['corruption', *keys]
        report = dict(
            meta,
            severity=loop.severity,
            seed=loop.seed,
            metrics=results,
            mean=mean)
    path = osp.join(work_dir, f'{kind}.json')
    with open(path, 'w') as f:
        json.dump(report, f, indent=2)
    title = (f'Occlusion ({loop.mode} patches, {loop.num_patches} per '
             'image)' if kind == 'occlusion' else
             f'Corruptions (severity {loop.severity}, seed {loop.seed})')
    lines = [title, '', '| ' + ' | '.join(header) + ' |',
             '|' + '|'.join([' :-- '] + [' --: '] * (len(header) - 1)) + '|']
    lines += ['| ' + ' | '.join(row) + ' |' for row in rows]
    print('\n'.join(lines) + f'\n\nwritten: {path}', flush=True)


def _plot_occlusion(loop, path: str, key: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from mmsmmix.visualization import save_png
    ratios = list(loop.results)
    values = [loop.results[r][key] for r in ratios]
    fig = Figure(figsize=(5, 3.5), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    label = 'most-attended first' if loop.mode == 'attention' else 'random'
    ax.plot(ratios, values, marker='o', label=f'{label} patches dropped')
    ax.set_xlabel('share of patches dropped')
    ax.set_ylabel(key)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(f'Occlusion robustness ({loop.num_patches} patches)')
    fig.tight_layout()
    save_png(fig, path)
