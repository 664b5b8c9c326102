"""What tools/test.py reports after a robustness test: a Markdown table on
stdout, ``occlusion.json`` and ``occlusion.png`` or ``corruption.json`` in
the work dir."""
import argparse
import json
import os.path as osp

from mmengine.dist import is_main_process

from ...utils import markdown_table
from .occlusion import num_dropped


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
    print(f'{title}\n\n{markdown_table(header, rows)}\n\nwritten: {path}',
          flush=True)


def _plot_occlusion(loop, path: str, key: str) -> None:
    # matplotlib (and the drawing helpers) only when a plot is written
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ...visualization import save_png
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
