"""Summary table and chart of a mixing comparison."""
import os.path as osp
import statistics
from typing import Dict, List, Optional, Sequence

from mmsmmix.utils import markdown_table as table
from ..timing import TARGET_MIX_SHARE
from .chart import plot
from .files import read_result, run_dir, write_json
from .plan import REFERENCE, Run


def mean_std(values: Sequence[float]) -> tuple:
    """Mean and sample standard deviation (0 for a single value)."""
    values = list(values)
    if not values:
        return float('nan'), float('nan')
    std = statistics.stdev(values) if len(values) > 1 else 0.
    return statistics.fmean(values), std


def summarise(methods: Sequence[str], labels: Dict[str, str],
              results: Dict[str, List[dict]],
              timing: Optional[dict]) -> List[dict]:
    """One row per method.

    Args:
        methods (list[str]): Method names, in table order.
        labels (dict): method -> display name.
        results (dict): method -> the results of its finished runs.
        timing (dict, optional): ``step_s`` (method -> per-round seconds,
            CutMix's among them) and ``mixing_s`` (method -> seconds).

    Returns:
        list[dict]: ``method``, ``label``, ``runs``, ``top1``/``top1_std``,
        ``ece``, ``corruption_top1`` (means over runs; None without
        corruption results), each with ``<key>_runs`` (the runs' values),
        ``step_ratio`` (mean step time / CutMix's mean step time),
        ``mixing_share`` (mixing ops / the method's mean step time).
    """
    rows = []
    step = timing['step_s'] if timing else {}
    base = statistics.fmean(step[REFERENCE]) if REFERENCE in step else None
    for method in methods:
        runs = results.get(method, [])
        values = {key: [r[key] for r in runs if r.get(key) is not None]
                  for key in ('top1', 'ece', 'corruption_top1',
                              'occlusion_top1')}
        top1, top1_std = mean_std(values['top1'])
        row = dict(
            method=method,
            label=labels[method],
            runs=len(runs),
            top1=top1,
            top1_std=top1_std,
            ece=mean_std(values['ece'])[0],
            corruption_top1=mean_std(values['corruption_top1'])[0]
            if values['corruption_top1'] else None,
            occlusion_top1=mean_std(values['occlusion_top1'])[0]
            if values['occlusion_top1'] else None,
            step_ratio=None,
            mixing_share=None,
            **{f'{key}_runs': v for key, v in values.items()})
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
    """The comparison as a Markdown table, best top-1 in bold (an occlusion
    column only if some run measured it)."""
    finished = [r for r in rows if r['runs']]
    best = max((r['top1'] for r in finished), default=None)
    occlusion = any(r.get('occlusion_top1') is not None for r in rows)
    header = ('Method', 'Runs', 'Top-1 (%)', 'ECE (%)',
              'Corruption top-1 (%)') + \
        (('Occlusion top-1 (%)', ) if occlusion else ()) + \
        ('Step time vs CutMix', 'Mixing ops (% of step)')
    cells = []
    for r in rows:
        top1 = ('–' if not r['runs'] else f"{r['top1']:.2f}" if
                r['runs'] == 1 else f"{r['top1']:.2f} ± {r['top1_std']:.2f}")
        if r['runs'] and r['top1'] == best:
            top1 = f'**{top1}**'
        share = _num(None if r['mixing_share'] is None else
                     100 * r['mixing_share'], '.2f')
        ratio = _num(r['step_ratio'], '.2f')
        cells.append((r['label'], r['runs'], top1, _num(r['ece'], '.2f'),
                      _num(r['corruption_top1'], '.2f')) +
                     ((_num(r.get('occlusion_top1'), '.2f'), )
                      if occlusion else ()) +
                     (ratio + 'x' if ratio != '–' else ratio, share))
    return table(header, cells, align='l' + 'c' * (len(header) - 1))


def verdict(rows: List[dict]) -> str:
    """One sentence: who wins on top-1, and by how much over whom."""
    finished = sorted((r for r in rows if r['runs']),
                      key=lambda r: r['top1'], reverse=True)
    if not finished:
        return 'No run has finished yet.'
    first = finished[0]
    spread = (f" ± {first['top1_std']:.2f} over {first['runs']} runs"
              if first['runs'] > 1 else ', one run')
    text = f"Best top-1: {first['label']} ({first['top1']:.2f}{spread})"
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


def _count(n: Optional[int], what: str) -> str:
    return f'all {what}' if not n else f'the first {n:,} {what}'


def describe(plan: dict, seeds: set, timing: Optional[dict]) -> tuple:
    """What was trained, how it was measured, and where: three sentences
    made from the plan (suite names, setting), never a fixed name."""
    s, suite = plan['setting'], plan['suite']
    done = ', '.join(map(str, sorted(seeds))) or 'none'
    if len(seeds) < s['seeds']:
        done += f" finished of 0..{s['seeds'] - 1}"
    epochs = s['epochs'] or "the configs' schedule of"
    trained = (f"{suite['dataset']}, {suite['model']}: "
               f"{_count(s['train_images'], 'training images')}, {epochs} "
               f"epoch{'' if s['epochs'] == 1 else 's'}, seed"
               f"{'' if len(seeds) == 1 else 's'} {done}")
    measured = (f"top-1 and ECE on {_count(s['test_images'], 'test images')}")
    if s['corruptions']:
        measured += (f"; corruption top-1 = mean over {s['corruptions']} "
                     f"(severity {s['severity']}) on "
                     f"{_count(s['corruption_images'], 'test images')}")
    if s.get('occlusion'):
        measured += (f"; occlusion top-1 = mean over random-patch occlusion "
                     f"of {s['occlusion']} of the patches on "
                     f"{_count(s['corruption_images'], 'test images')}")
    where = f"{plan['date']}; {plan['machine']}; device {plan['device']}"
    if timing is not None:
        rounds = timing.get('rounds', s['timing_rounds'])
        warmup = timing.get('warmup', s['timing_warmup'])
        where += (f"; step time: mean of {rounds} round-robin "
                  f"step{'' if rounds == 1 else 's'} of batch "
                  f"{timing['batch_size']} at {timing['threads']} "
                  f"thread(s), after {warmup} warm-up "
                  f"step{'' if warmup == 1 else 's'} of each method")
    return trained, measured, where


def write_report(plan: dict, runs: Sequence[Run], work_dir: str,
                 timing: Optional[dict]) -> str:
    """Write ``comparison.md``, ``.json`` and ``.png`` of the finished runs.

    Args:
        plan (dict): The comparison's plan (setting, methods, machine, ...).
        runs (list[Run]): The planned runs; unfinished ones are left out.
        work_dir (str): The comparison's work dir.
        timing (dict, optional): Step and mixing-op times (see
            :func:`summarise`); None if not measured.

    Returns:
        str: The Markdown written, plus the mixing-op verdict.
    """
    results, seeds = {}, set()
    for run in runs:
        result = read_result(run_dir(work_dir, run.method, run.seed))
        if result is not None:
            results.setdefault(run.method, []).append(result)
            seeds.add(run.seed)
    rows = summarise(plan['methods'], plan['labels'], results, timing)
    trained, measured, where = describe(plan, seeds, timing)
    text = f'{trained}; {measured}.\n\n{where}.\n\n{markdown_table(rows)}'
    text += f'\n\n{verdict(rows)}\n'
    with open(osp.join(work_dir, 'comparison.md'), 'w') as f:
        f.write(text)
    write_json(osp.join(work_dir, 'comparison.json'),
               dict(plan=plan, rows=rows, timing=timing))
    plot(rows, osp.join(work_dir, 'comparison.png'),
         title=f"{trained}\n{plan['date']}, {plan['machine']}",
         highlight=tuple(plan['suite']['highlight']))
    if timing is None:
        return text
    worst = max((r['mixing_share'] or 0 for r in rows), default=0)
    passed = 'PASS' if worst < TARGET_MIX_SHARE else 'FAIL'
    return text + (f'\nMixing ops cost at most {worst:.2%} of a training step'
                   f' ({passed}: target < {TARGET_MIX_SHARE:.0%}).\n')
