"""Steady-state training-step time, compiled over eager, of every
Fashion-MNIST method.

For each method, two models are built from its config in the
Fashion-MNIST comparison suite (``configs/compare_mixing/fashion_mnist.py``)
with the same weights and seeds: one eager, one whose forwards are
compiled as ``compile=`` does in training
(:func:`~mmsmmix.engine.compile_forwards`, Inductor by
default). The compiled model is warmed up until its compiling is done
(``settle`` steps in a row without a new graph, at most ``max_warmup``);
the eager one makes as many steps, so both draw the same augments from
then on. Then all models are stepped round-robin (one step each per round,
the first one rotating), so drifting machine load hits them alike; a
method's ratio is the median of its per-round compiled/eager ratios.

A step is ``model.train_step(data, optim_wrapper)`` on the first
``batch_size`` training images (see :mod:`mmsmmix.benchmarks.timing`).
"""
import statistics
import sys
import time
from typing import Callable, Optional, Sequence

import torch
from mmengine.config import Config

from mmsmmix.datasets import first_training_batch
from mmsmmix.engine.compiled_forward import compile_model, options_text
from mmsmmix.utils import markdown_table
from .comparison import load_suite
from .timing import (build_model, environment, instruction_set, loadavg,
                     quartiles, time_step)

#: The methods of the Fashion-MNIST comparison suite, whose configs are
#: timed (the suite is the one list of methods).
SUITE = 'fashion_mnist'
METHODS = tuple(load_suite(SUITE).methods)


def method_config(method: str) -> Config:
    """The Fashion-MNIST config of ``method`` (the suite's)."""
    if method not in METHODS:
        raise ValueError(f'method must be one of {METHODS}, got {method!r}')
    return Config.fromfile(load_suite(SUITE).methods[method].config)


def graphs_compiled() -> int:
    """Graphs Dynamo has compiled in this process so far."""
    from torch._dynamo.utils import counters
    return int(counters['stats']['unique_graphs'])


def _progress(line: str) -> None:
    print(f'[compile_time] {line}', file=sys.stderr, flush=True)


def run(methods: Sequence[str] = METHODS,
        rounds: int = 10,
        batch_size: int = 64,
        compile_cfg: Optional[dict] = None,
        settle: int = 3,
        max_warmup: int = 30,
        progress: Callable[[str], None] = _progress) -> dict:
    """Build, warm up and time every method eager and compiled, side by
    side in this process; the numbers as a dict (see :func:`report`).

    Args:
        methods (sequence[str]): Names of :data:`METHODS`.
        rounds (int): Measured round-robin rounds.
        batch_size (int): Images per step.
        compile_cfg (dict, optional): ``torch.compile`` arguments (default
            ``{}``: Inductor).
        settle (int): Warm-up ends after this many compiled steps in a row
            that compiled no new graph.
        max_warmup (int): Warm-up steps at most.
        progress (Callable): Called with one line per stage.
    """
    compile_cfg = dict(compile_cfg or {})
    device = torch.device('cpu')
    env = dict(environment(), batch_size=batch_size, rounds=rounds,
               compile=options_text(compile_cfg) or 'defaults (inductor)',
               settle=settle, max_warmup=max_warmup)
    models, forwards, warmup, data = {}, {}, {}, None
    for method in methods:
        cfg = method_config(method)
        if data is None:
            data = first_training_batch(cfg, batch_size)
        eager = build_model(cfg, device)
        compiled = build_model(cfg, device)
        forwards[method] = compile_model(compiled[0], compile_cfg)
        models[method, 'eager'] = eager
        models[method, 'compiled'] = compiled
        start, graphs, quiet, steps, eager_s = time.perf_counter(), \
            graphs_compiled(), 0, 0, 0.
        while quiet < settle and steps < max_warmup:
            before = graphs_compiled()
            time_step(*compiled, data, device)
            eager_s += time_step(*eager, data, device)  # same draws
            steps += 1
            quiet = quiet + 1 if graphs_compiled() == before else 0
            if forwards[method].failure is not None:
                break
        seconds = time.perf_counter() - start - eager_s
        warmup[method] = dict(
            steps=steps,
            seconds=seconds,
            graphs=graphs_compiled() - graphs,
            settled=quiet >= settle,
            failure=None if forwards[method].failure is None else repr(
                forwards[method].failure))
        state = 'FELL BACK to eager' if warmup[method]['failure'] else (
            'settled' if warmup[method]['settled'] else 'NOT settled')
        progress(f'{method}: warm-up {steps} steps, '
                 f'{warmup[method]["graphs"]} graphs, {seconds:.1f} s of '
                 f'compiled steps, {state}')

    keys = list(models)
    times = {key: [] for key in keys}
    graphs_before = graphs_compiled()
    progress(f'timing {rounds} rounds of {len(keys)} models '
             f'(load average {loadavg()})')
    for rnd in range(rounds):
        shift = rnd % len(keys)
        for key in keys[shift:] + keys[:shift]:
            times[key].append(time_step(*models[key], data, device))
        progress(f'round {rnd + 1}/{rounds} done (load average '
                 f'{loadavg()})')
    env['loadavg_after'] = loadavg()

    median = statistics.median
    per_method = {}
    for method in methods:
        eager_t, comp_t = times[method, 'eager'], times[method, 'compiled']
        ratios = [c / e for c, e in zip(comp_t, eager_t)]
        per_method[method] = dict(
            eager_s=median(eager_t),
            compiled_s=median(comp_t),
            ratio=median(ratios),
            ratio_iqr=quartiles(ratios),
            eager_s_all=eager_t,
            compiled_s_all=comp_t,
            warmup=warmup[method],
            fell_back=forwards[method].failure is not None)
    return dict(
        env=env,
        methods=list(methods),
        results=per_method,
        graphs_compiled_while_timing=graphs_compiled() - graphs_before)


def report(r: dict, note: str = '') -> str:
    """The measurement as Markdown: a heading, the set-up and one row per
    method."""
    env = r['env']
    lines = [
        f"## Training step, compiled / eager, ViT-mini Fashion-MNIST, batch "
        f"{env['batch_size']}, CPU\n",
        f"{env['date']}; torch {env['torch']}, mmpretrain "
        f"{env['mmpretrain']}, mmengine {env['mmengine']}, mmsmmix "
        f"{env['mmsmmix']}; {env['threads']} threads, {env['cpu']} "
        f"({env['cpu_count']} CPUs, {instruction_set(env)}; load average "
        f"{env['loadavg_before']} "
        f"before, {env['loadavg_after']} after). torch.compile("
        f"{env['compile']}) of the backbone (``compile_forwards``, as "
        "``compile=`` in a config); warm-up until "
        f"{env['settle']} steps in a row compiled nothing (at most "
        f"{env['max_warmup']}), then the median of {env['rounds']} "
        'round-robin rounds; ratio = median of the per-round compiled / '
        'eager step times (interquartile range in brackets). Graphs '
        'compiled while timing: '
        f"{r['graphs_compiled_while_timing']}.\n",
    ]
    if note:
        lines.append(note + '\n')
    rows = []
    for method in r['methods']:
        m = r['results'][method]
        w = m['warmup']
        status = 'fell back to eager' if m['fell_back'] else (
            'compiled' if w['settled'] else 'compiled (not settled)')
        lo, hi = m['ratio_iqr']
        rows.append([
            method, f"{m['eager_s'] * 1e3:.0f}",
            f"{m['compiled_s'] * 1e3:.0f}",
            f"{m['ratio']:.2f} [{lo:.2f}, {hi:.2f}]", str(w['graphs']),
            f"{w['steps']}", f"{w['seconds']:.1f}", status
        ])
    lines.append(
        markdown_table([
            'method', 'eager ms', 'compiled ms', 'compiled / eager',
            'graphs', 'warm-up steps', 'warm-up s (compiled steps)', 'state'
        ], rows, 'lrrrrrrl'))
    return '\n'.join(lines)
