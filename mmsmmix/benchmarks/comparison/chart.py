"""Dot-plot chart of a mixing comparison (issue 17).

One row per method (best mean top-1 at the top, the same order in every
panel); each run is a small hollow dot, the mean a larger filled diamond
with a thin ± one-std line when there are two runs or more. Truncated
axes say so in their label; the ECE axis starts at 0.
"""
import math
import numbers
import statistics
import textwrap
from typing import List, Sequence

HIGHLIGHT_COLOR = '#d1495b'
OTHER_COLOR = '#3b5b92'
BAND_COLOR = '#f1f1f1'

# (panel key, axis name, truncation allowed)
PANELS = (('top1', 'top-1 (%), higher is better', True),
          ('ece', 'ECE (%), lower is better', False),
          ('corruption_top1', 'mean corruption top-1 (%), higher is better',
           True))

ROW_INCH = 0.5  # height of one method's row
PANEL_INCH = 3.9  # width of one panel
LABEL_INCH = 1.3  # method names left of the first panel
MIN_SPAN = 2.  # a truncated axis spans at least this many points


def _break_marker():
    from matplotlib.path import Path
    return Path([(-1.2, -1.), (-0.2, 1.), (0.2, -1.), (1.2, 1.)],
                [Path.MOVETO, Path.LINETO, Path.MOVETO, Path.LINETO])


def _finite(value) -> bool:
    return isinstance(value, numbers.Real) and math.isfinite(value)


def _stats(row: dict, key: str) -> tuple:
    """(mean, std or None, runs) of one row and panel; std needs 2 runs."""
    runs = [float(v) for v in (row.get(key + '_runs') or []) if _finite(v)]
    mean = row.get(key)
    mean = float(mean) if _finite(mean) else (
        statistics.fmean(runs) if runs else None)
    std = None
    if row.get('runs', len(runs)) >= 2:
        std = row.get(key + '_std')
        std = float(std) if _finite(std) else (
            statistics.stdev(runs) if len(runs) >= 2 else None)
    return mean, std, runs


def _limits(values: Sequence[float], truncate: bool) -> tuple:
    """Round axis limits around ``values`` (with room for the value text)
    and whether the axis is truncated (does not start at 0)."""
    from matplotlib.ticker import MaxNLocator
    low, high = min(values), max(values)
    if not truncate:
        low = 0.
    elif high - low < MIN_SPAN:  # no zooming into noise-sized gaps
        low, high = (low + high - MIN_SPAN) / 2, (low + high + MIN_SPAN) / 2
    pad = (high - low) * 0.15
    lo, hi = low - (pad if truncate else 0.), high + pad
    if truncate and lo <= 0.35 * hi:  # cutting would save little: start at 0
        lo, truncate = 0., False
    ticks = MaxNLocator(nbins=8, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
    lo = max(0., ticks[0]) if truncate else 0.
    return lo, ticks[-1], lo > 0


def _number(value: float) -> str:
    return format(value, 'g')


def _legend_runs(counts: List[int]) -> str:
    most = max(counts)
    if most < 2:
        return 'value of the single seed (no spread measured)'
    if min(counts) == most:
        return f'mean ± std over {most} seeds'
    return f'mean ± std over up to {most} seeds (runs per method at left)'


def figure(rows: List[dict], title: str,
           highlight: Sequence[str] = ('smmix', 'smmix_dm')):
    """The comparison chart as a :class:`matplotlib.figure.Figure`.

    Args:
        rows (list[dict]): One per method (see :func:`plot`); rows with no
            run are left out.
        title (str): The figure title (wrapped when long).
        highlight (Sequence[str]): Method keys drawn in the highlight colour
            and named in the legend.

    Returns:
        Figure: Axes have gid ``'top1'``, ``'ece'`` and (when any row has
        corruption results) ``'corruption_top1'``; their lines have gid
        ``'mean:<method>'``, ``'runs:<method>'`` and ``'std:<method>'``.
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    rows = [r for r in rows if r.get('runs')]
    marked = [r.get('label', r['method']) for r in rows
              if r['method'] in highlight]  # in table order
    # best mean top-1 first; rows without a top-1 last, in table order
    rows = sorted(
        rows,
        key=lambda r: -r['top1'] if _finite(r.get('top1')) else math.inf)
    panels = [p for p in PANELS
              if any(_stats(r, p[0])[0] is not None for r in rows)]
    if not panels:
        panels = list(PANELS[:2])
    counts = [r['runs'] for r in rows] or [0]
    mixed = len(set(counts)) > 1

    n = max(len(rows), 1)
    width = LABEL_INCH + PANEL_INCH * len(panels)
    chars = int(width * 13)  # about 13 characters per inch at 10 pt
    title = '\n'.join(line for part in title.splitlines()
                      for line in textwrap.wrap(part, chars)) if title else ''
    head = 0.3 + 0.18 * (title.count('\n') + 1 if title else 0)
    height = head + 1.2 + ROW_INCH * n  # title, legend and axis labels
    fig = Figure(figsize=(width, height), dpi=100, layout='constrained')
    fig.get_layout_engine().set(w_pad=0.06, h_pad=0.06, wspace=0.04)
    axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]

    ys = list(range(n - 1, -1, -1))  # first row at the top
    labels = []
    for row in rows:
        label = row.get('label', row['method'])
        if mixed:
            label += f" ({row['runs']} run{'s' if row['runs'] > 1 else ''})"
        labels.append(label)

    for ax, (key, name, truncate) in zip(axes, panels):
        ax.set_gid(key)
        values = []
        for row, y in zip(rows, ys):
            mean, std, runs = _stats(row, key)
            if mean is None:
                continue
            values += runs + [mean]
            if std is not None:
                values += [mean - std, mean + std]
        lo, hi, truncated = _limits(values or [0., 1.], truncate)
        ax.set_xlim(lo, hi)
        span = hi - lo
        for y in ys[::2]:
            ax.axhspan(y - 0.5, y + 0.5, color=BAND_COLOR, zorder=0, lw=0)
        for row, y in zip(rows, ys):
            color = (HIGHLIGHT_COLOR if row['method'] in highlight
                     else OTHER_COLOR)
            mean, std, runs = _stats(row, key)
            if mean is None:
                ax.text(lo + span / 2, y, 'not evaluated', ha='center',
                        va='center', fontsize=8, color='0.45')
                continue
            if std is not None:
                ax.plot([mean - std, mean + std], [y, y], color=color,
                        lw=1.2, solid_capstyle='butt', zorder=2,
                        gid='std:' + row['method'])
            ax.plot([mean], [y], marker='D', ms=7, color=color, ls='none',
                    zorder=3, gid='mean:' + row['method'])
            ax.plot(runs, [y - 0.22] * len(runs), marker='o', ms=4.5,
                    mfc='white', mec=color, mew=1.1, ls='none', zorder=4,
                    gid='runs:' + row['method'])
            text = f'{mean:.2f}' + (f' ± {std:.2f}' if std is not None
                                    else '')
            where = (mean - lo) / span  # keep the text inside the panel
            ha = 'left' if where < 0.1 else 'right' if where > 0.9 else \
                'center'
            ax.text(mean, y + 0.16, text, ha=ha, va='bottom', fontsize=8,
                    color='0.15', zorder=5)
        axis = name
        if truncated:
            axis += (f'\naxis from {_number(lo)} to {_number(hi)}, '
                     'not from 0')
        else:
            axis += '\naxis from 0'
        ax.set_xlabel(axis, fontsize=9)
        ax.grid(axis='x', color='0.85', lw=0.6)
        ax.set_axisbelow(True)
        ax.tick_params(axis='both', labelsize=8.5, length=3)
        ax.tick_params(axis='y', length=0)
        for side in ('top', 'right'):
            ax.spines[side].set_visible(False)
        if truncated:  # a '//' break mark near the left end of the x axis
            ax.plot([0.03], [0], transform=ax.transAxes,
                    marker=_break_marker(), ms=11, mew=1.3, color='k',
                    ls='none', clip_on=False, zorder=6)
    axes[0].set_ylim(-0.6, n - 0.4)
    axes[0].set_yticks(ys, labels)
    for tick, row in zip(axes[0].get_yticklabels(), rows):
        if row['method'] in highlight:
            tick.set_color(HIGHLIGHT_COLOR)
            tick.set_fontweight('bold')

    handles = []
    if marked:
        handles.append(
            Line2D([], [], marker='D', ms=7, color=HIGHLIGHT_COLOR, ls='none',
                   label='highlighted: ' + ', '.join(marked)))
    if len(marked) < len(rows):
        handles.append(
            Line2D([], [], marker='D', ms=7, color=OTHER_COLOR, ls='none',
                   label='other methods'))
    handles.append(
        Line2D([], [], marker='o', ms=4.5, mfc='white', mec='0.3', mew=1.1,
               ls='none', label='one run (seed)'))
    handles.append(
        Line2D([], [], marker='D', ms=7, color='0.3',
               lw=1.2 if max(counts) > 1 else 0, label=_legend_runs(counts)))
    # about 0.065 inch a character at 8.5 pt, 0.5 inch a marker
    wide = sum(0.065 * len(h.get_label()) + 0.5 for h in handles)
    fig.legend(handles=handles, loc='outside lower center',
               ncol=len(handles) if wide < width - 0.5 else 2,
               fontsize=8.5, frameon=False, handletextpad=0.4,
               columnspacing=1.5)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def plot(rows: List[dict], path: str, title: str,
         highlight: Sequence[str] = ('smmix', 'smmix_dm')) -> str:
    """Dot plot of top-1, ECE and corruption top-1 per method, as a PNG.

    Args:
        rows (list[dict]): One dict per method, in table order: ``method``
            (key), ``label`` (display name), ``runs`` (rows with 0 runs are
            left out), ``top1``/``top1_std``/``top1_runs``, ``ece``/
            ``ece_runs``, ``corruption_top1``/``corruption_top1_runs``
            (None / empty when corruption was not evaluated: then no
            corruption panel is drawn). Values are percentages.
        path (str): Where to write the PNG.
        title (str): Figure title (suite, setting and date).
        highlight (Sequence[str]): Method keys drawn in the highlight colour
            and named in the legend as highlighted.

    Returns:
        str: ``path``.
    """
    from mmsmmix.visualization import save_png
    return save_png(figure(rows, title, highlight), path)
