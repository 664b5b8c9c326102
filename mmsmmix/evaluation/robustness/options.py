"""Robustness options of tools/test.py: occlusion and corruption testing.

``mmsmmix_cli.add_robustness_args`` adds the flags (before anything heavy
is imported), ``check_robustness_args`` validates them and
``apply_robustness`` swaps the config's test loop for ``OcclusionTestLoop``
or ``CorruptionTestLoop``; :mod:`.report` reports.
"""
import argparse
from typing import List, Optional

from mmengine.config import Config

from .corruptions import parse_corruptions
from .occlusion import num_dropped


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
