"""Summary table and chart of a mixing comparison."""
import os.path as osp
import statistics
from typing import Dict, List, Optional, Sequence

from ...utils import markdown_table as table
from ..timing import TARGET_MIX_SHARE
from .files import read_result, run_dir, write_json
from .plan import METHODS, Run


def mean_std(values: Sequence[float]) -> tuple:
    """Mean and sample standard deviation (0 for a single value)."""
    values = list(values)
    if not values:
        return float('nan'), float('nan')
    std = statistics.stdev(values) if len(values) > 1 else 0.
    return statistics.fmean(values), std


def summarise(methods: Sequence[str], results: Dict[str, List[dict]],
              timing: Optional[dict]) -> List[dict]:
    """One row per method.

    Args:
        methods (list[str]): Method names, in table order.
        results (dict): method -> the results of its finished runs.
        timing (dict, optional): ``step_s`` (method -> per-round seconds,
            ``cutmix`` among them) and ``mixing_s`` (method -> seconds).

    Returns:
        list[dict]: ``method``, ``label``, ``runs``, ``top1``/``top1_std``,
        ``ece``, ``corruption_top1`` (means over runs), ``step_ratio``
        (mean step time / CutMix's mean step time), ``mixing_share``
        (mixing ops / the method's mean step time).
    """
    rows = []
    step = timing['step_s'] if timing else {}
    base = statistics.fmean(step['cutmix']) if 'cutmix' in step else None
    for method in methods:
        runs = results.get(method, [])
        top1, top1_std = mean_std(r['top1'] for r in runs)
        row = dict(
            method=method,
            label=METHODS[method][0],
            runs=len(runs),
            top1=top1,
            top1_std=top1_std,
            ece=mean_std(r['ece'] for r in runs)[0],
            corruption_top1=mean_std(r['corruption_top1'] for r in runs)[0],
            step_ratio=None,
            mixing_share=None)
        if method in step:
            mean_step = statistics.fmean(step[method])
            if base:
                row['step_ratio'] = mean_step / base
            if method in timing.get('mixing_s', {}):
                row['mixing_share'] = timing['mixing_s'][method] / mean_step
        rows.append(row)
    return rows


def _num(value: Optional[float], fmt: str) -> str:
    return '–' if value is None or value != value else format(value, fmt)


def markdown_table(rows: List[dict]) -> str:
    """The comparison as a Markdown table, best top-1 in bold."""
    finished = [r for r in rows if r['runs']]
    best = max((r['top1'] for r in finished), default=None)
    header = ('Method', 'Runs', 'Top-1 (%)', 'ECE (%)',
              'Corruption top-1 (%)', 'Step time vs CutMix',
              'Mixing ops (% of step)')
    cells = []
    for r in rows:
        top1 = (f"{r['top1']:.2f} ± {r['top1_std']:.2f}"
                if r['runs'] else '–')
        if r['runs'] and r['top1'] == best:
            top1 = f'**{top1}**'
        share = _num(None if r['mixing_share'] is None else
                     100 * r['mixing_share'], '.2f')
        ratio = _num(r['step_ratio'], '.2f')
        cells.append((r['label'], r['runs'], top1, _num(r['ece'], '.2f'),
                      _num(r['corruption_top1'], '.2f'),
                      ratio + 'x' if ratio != '–' else ratio, share))
    return table(header, cells, align='lcccccc')


def verdict(rows: List[dict]) -> str:
    """One sentence: who wins on top-1, and by how much over whom."""
    finished = sorted((r for r in rows if r['runs']),
                      key=lambda r: r['top1'], reverse=True)
    if not finished:
        return 'No run has finished yet.'
    first = finished[0]
    text = (f"Best top-1: {first['label']} ({first['top1']:.2f} ± "
            f"{first['top1_std']:.2f} over {first['runs']} run(s))")
    if len(finished) > 1:
        second = finished[1]
        gap = first['top1'] - second['top1']
        if min(first['runs'], second['runs']) < 2:
            clear = 'a single run: no spread measured'
        else:
            spread = max(first['top1_std'], second['top1_std'])
            clear = ('more' if gap > spread else 'less') + \
                ' than one standard deviation'
        text += f", {gap:.2f} points ahead of {second['label']} ({clear})"
    return text + '.'


def plot(rows: List[dict], path: str, title: str = '') -> str:
    """Bar charts of top-1 (± std), ECE and corruption top-1, as a PNG."""
    from matplotlib.figure import Figure

    from mmsmmix.visualization import save_png
    rows = [r for r in rows if r['runs']]
    labels = [r['label'] for r in rows]
    fig = Figure(figsize=(15, 4.8), dpi=100)
    panels = [('top1', 'Top-1 (%)', 'top1_std'), ('ece', 'ECE (%)', None),
              ('corruption_top1', 'Mean corruption top-1 (%)', None)]
    for i, (key, name, err) in enumerate(panels):
        ax = fig.add_subplot(1, 3, i + 1)
        values = [r[key] for r in rows]
        colors = ['tab:red' if r['method'].startswith('smmix') else
                  'tab:blue' for r in rows]
        ax.bar(range(len(rows)), values, color=colors,
               yerr=[r[err] for r in rows] if err else None, capsize=3)
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels(labels, rotation=60, ha='right', fontsize=8)
        ax.set_title(name)
        if values and key != 'ece':
            low, high = min(values), max(values)
            pad = max(high - low, 1.) * 0.5
            ax.set_ylim(low - pad, high + pad)
        ax.grid(axis='y', alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.subplots_adjust(bottom=0.3, wspace=0.25, top=0.85)
    return save_png(fig, path)


def write_report(plan: dict, runs: Sequence[Run], work_dir: str,
                 timing: dict) -> str:
    """Write ``comparison.md``, ``.json`` and ``.png`` of the finished runs.

    Args:
        plan (dict): The comparison's plan (setting, methods, machine, ...).
        runs (list[Run]): The planned runs; unfinished ones are left out.
        work_dir (str): The comparison's work dir.
        timing (dict): Step and mixing-op times (see :func:`summarise`).

    Returns:
        str: The Markdown written, plus the mixing-op verdict.
    """
    results, seeds = {}, set()
    for run in runs:
        result = read_result(run_dir(work_dir, run.method, run.seed))
        if result is not None:
            results.setdefault(run.method, []).append(result)
            seeds.add(run.seed)
    rows = summarise(plan['methods'], results, timing)
    s = plan['setting']
    grid = 28 // s['patch_size']
    done = ', '.join(map(str, sorted(seeds))) or 'none'
    if len(seeds) < s['seeds']:
        done += f" finished of 0..{s['seeds'] - 1}"
    trained = (f"Fashion-MNIST, first {s['train_images']} training images, "
               f"{s['epochs']} epochs, ViT-mini patch {s['patch_size']} "
               f"({grid}x{grid} tokens), seeds {done}")
    measured = (f"top-1 and ECE on {s['test_images'] or 10000} test images, "
                f"corruption top-1 = mean over {s['corruptions']} (severity "
                f"{s['severity']}) on the first {s['corruption_images']}")
    where = (f"{plan['date']}; {plan['machine']}; device {plan['device']}; "
             f"step time: mean of {s['timing_rounds']} round-robin steps of "
             f"batch {timing['batch_size']} at {timing['threads']} "
             'thread(s)')
    text = (f'{trained}; {measured}.\n\n{where}.\n\n{markdown_table(rows)}'
            f'\n\n{verdict(rows)}\n')
    with open(osp.join(work_dir, 'comparison.md'), 'w') as f:
        f.write(text)
    write_json(osp.join(work_dir, 'comparison.json'),
               dict(plan=plan, rows=rows, timing=timing))
    plot(rows, osp.join(work_dir, 'comparison.png'), title=trained)
    worst = max((r['mixing_share'] or 0 for r in rows), default=0)
    passed = 'PASS' if worst < TARGET_MIX_SHARE else 'FAIL'
    return text + (f'\nMixing ops cost at most {worst:.2%} of a training step'
                   f' ({passed}: target < {TARGET_MIX_SHARE:.0%}).\n')
