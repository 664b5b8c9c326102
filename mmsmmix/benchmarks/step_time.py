"""Step time of a model (DeiT-Tiny by default; Swin-T, PVT-v2-B2) with
every mixing method, in float32 and bfloat16 training, and SMMix's costs.

Variants, all at 224 px, 1000 classes, ``MixImageClassifier``, from the
model's baseline / SMMix config pair (:data:`MODELS`; for DeiT-Tiny
``configs/smmix/deit-tiny_{mixup-cutmix,smmix}_4xb256_in1k.py``):

- ``nomix``: the baseline config without augments; ``mixup`` / ``cutmix``:
  the same with only its Mixup (0.8) or CutMix (1.0) augment;
- ``smmix``: the SMMix config with ``switch_prob=1`` (every step an SMMix
  step: clean forward, attention probe, max-min region mixing);
  ``smmix_bf16``: the same with ``motivating_dtype='bfloat16'`` (the clean
  pass under bfloat16 autocast);
- DeiT-Tiny only, the other methods of the toolbox (``mixup_cutmix``,
  ``resizemix``, ``fmix``, ``transmix``, ``mixpro``, ``smmix_dm``,
  ``rankmixup``): their DeiT-S ImageNet configs (the ``imagenet_deit-s``
  comparison suite) with the DeiT-Tiny backbone, at their configured branch
  probabilities.

A step is ``model.train_step(data, optim_wrapper)`` on one fixed batch of
random images: data preprocessor, mixing, forward, backward, AdamW update;
in ``'fp32'`` with mmengine's ``OptimWrapper``, in ``'bf16'`` with
``BFloat16AmpOptimWrapper`` (bfloat16 autocast). Also measured: SMMix's
mixing ops alone (attention score, region mix, label mixing), the
non-finite guard, the clean forward in float32 and in bfloat16 (and the same
eval forward without the probe), and the peak memory of the base variants
in a fresh process.
"""
import json
import os.path as osp
import statistics
import subprocess
import sys
import time
from typing import Dict, List, NamedTuple, Optional

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmpretrain.models import ImageClassifier
from mmpretrain.structures import DataSample

from mmsmmix.models.classifiers.nonfinite_guard import all_finite
from mmsmmix.ops import smooth_labels
from mmsmmix.registry import config_dir
from mmsmmix.utils import markdown_table
from .comparison import load_suite
from .timing import (TARGET_MIX_SHARE, TARGET_SMMIX_BF16_STEP_RATIO,
                     TARGET_SMMIX_STEP_RATIO, build_model, environment,
                     instruction_set, loadavg, peak_rss_mib, quartiles,
                     reset_peak_rss, rss_mib, step_times, time_step)

#: Variants built from a model's baseline and SMMix configs, with their
#: labels: SMMix every step, and with a bf16 pass.
BASE_LABELS = dict(
    nomix='no mixing',
    mixup='Mixup (MMPretrain)',
    cutmix='CutMix (MMPretrain)',
    smmix='SMMix branch',
    smmix_bf16='SMMix branch, bf16 motivating pass')
BASE_VARIANTS = tuple(BASE_LABELS)
#: Every other method of the ``imagenet_deit-s`` comparison suite, at its
#: configured branch probabilities, labelled as the suite labels it.
SUITE = 'imagenet_deit-s'
SUITE_VARIANTS = tuple(m for m in load_suite(SUITE).methods
                       if m not in BASE_LABELS)
VARIANTS = BASE_VARIANTS + SUITE_VARIANTS
LABELS = dict(BASE_LABELS, **{
    m: load_suite(SUITE).methods[m].label for m in SUITE_VARIANTS})
PRECISIONS = ('fp32', 'bf16')
IMG_SIZE = 224


class ModelPair(NamedTuple):
    """A model's label and its baseline and SMMix configs (under
    ``configs/``); ``suite``: the comparison suite's methods run on it."""
    label: str
    baseline: str
    smmix: str
    suite: bool = False


#: The models the benchmark runs (``--model``), DeiT-Tiny first (default).
MODELS = {
    'deit-tiny':
    ModelPair('DeiT-Tiny', 'smmix/deit-tiny_mixup-cutmix_4xb256_in1k.py',
              'smmix/deit-tiny_smmix_4xb256_in1k.py', suite=True),
    'swin-tiny':
    ModelPair('Swin-T', 'smmix/swin-tiny_mixup-cutmix_16xb64_in1k.py',
              'smmix/swin-tiny_smmix_16xb64_in1k.py'),
    'pvt-v2-b2':
    ModelPair('PVT-v2-B2', 'smmix/pvt-v2-b2_mixup-cutmix_4xb256_in1k.py',
              'smmix/pvt-v2-b2_smmix_4xb256_in1k.py'),
}
DEFAULT_MODEL = 'deit-tiny'
BASELINE_CONFIG = MODELS[DEFAULT_MODEL].baseline
SMMIX_CONFIG = MODELS[DEFAULT_MODEL].smmix


def model_variants(model: str = DEFAULT_MODEL) -> tuple:
    """The variants a model runs: the base ones, and the suite's on
    DeiT-Tiny."""
    return VARIANTS if _pair(model).suite else BASE_VARIANTS


def _pair(model: str) -> ModelPair:
    if model not in MODELS:
        raise ValueError(f'model must be one of {tuple(MODELS)}, got '
                         f'{model!r}')
    return MODELS[model]


def variant_config(variant: str, model: str = DEFAULT_MODEL) -> Config:
    """The config of one variant on one model (see the module
    docstring)."""
    pair = _pair(model)
    if variant not in model_variants(model):
        raise ValueError(f'variant must be one of {model_variants(model)}'
                         f' on {model}, got {variant!r}')
    if variant in SUITE_VARIANTS:
        cfg = Config.fromfile(load_suite(SUITE).methods[variant].config)
        cfg.model.backbone.arch = 'deit-tiny'
        cfg.model.head.in_channels = 192
        return cfg
    if variant.startswith('smmix'):
        cfg = Config.fromfile(osp.join(config_dir(), pair.smmix))
        cfg.model.train_cfg.augments.switch_prob = 1.0
        if variant == 'smmix_bf16':
            cfg.model.train_cfg.augments.motivating_dtype = 'bfloat16'
        return cfg
    cfg = Config.fromfile(osp.join(config_dir(), pair.baseline))
    # the baseline's own Mixup or CutMix augment, alone
    kind = dict(nomix=None, mixup='Mixup', cutmix='CutMix')[variant]
    augments = [a for a in cfg.model.train_cfg.augments if a.type == kind]
    if kind and len(augments) != 1:
        raise ValueError(f'{pair.baseline} has no single {kind} augment')
    cfg.model.train_cfg = dict(augments=augments)
    return cfg


def random_batch(batch_size: int, num_classes: int = 1000,
                 seed: int = 0) -> dict:
    """A fixed batch of uint8 224-px RGB images and labels."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (batch_size, 3, IMG_SIZE, IMG_SIZE),
                           dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, num_classes, (batch_size, ),
                           generator=generator)
    return dict(
        inputs=list(images),
        data_samples=[DataSample().set_gt_label(int(y)) for y in labels])


class SMMixCosts:
    """The parts of an SMMix step, timed on one preprocessed batch."""

    def __init__(self, model, data: dict):
        batch = model.data_preprocessor(
            dict(inputs=list(data['inputs']),
                 data_samples=[s.clone() for s in data['data_samples']]),
            True)
        self.inputs = batch['inputs']
        self.samples = batch['data_samples']
        labels = torch.cat([s.gt_label for s in self.samples])
        self.onehot = F.one_hot(labels, model.head.num_classes).float()
        self.model = model
        self.aug = model.augments[0]
        _, self.record = model.mix_context.clean_forward(
            self.inputs, self.aug.attn_stat)
        self.sizes = self.aug.window_scores(self.inputs, self.record).sizes
        self.calls = 0

    def mixing_ops(self) -> float:
        """Attention score + region mix + label smoothing and mixing, once
        (cycling through the region sizes)."""
        region = self.sizes[self.calls % len(self.sizes)]
        self.calls += 1
        start = time.perf_counter()
        scores = self.aug.window_scores(self.inputs, self.record)
        targets = smooth_labels(self.onehot, self.aug.label_smoothing)
        self.aug.windows(self.inputs, scores, region, targets)
        return time.perf_counter() - start

    def guard(self) -> float:
        """The non-finite guard of one step: the input check of ``loss()``
        plus ``parse_losses`` with the guard minus MMPretrain's plain
        ``parse_losses`` on the same losses."""
        model = self.model
        losses = model.loss(self.inputs, self.samples)  # arms the guard
        start = time.perf_counter()
        all_finite(self.inputs)
        model.parse_losses(losses)
        guarded = time.perf_counter() - start
        start = time.perf_counter()
        ImageClassifier.parse_losses(model, losses)
        return guarded - (time.perf_counter() - start)

    def clean_forward(self, dtype: torch.dtype = torch.float32) -> float:
        start = time.perf_counter()
        self.model.mix_context.clean_forward(self.inputs, self.aug.attn_stat,
                                             dtype)
        return time.perf_counter() - start

    def plain_eval_forward(self) -> float:
        """The same eval no-grad forward without the attention probe."""
        model = self.model
        start = time.perf_counter()
        model.eval()
        with torch.no_grad():
            model.head(model.extract_feat(self.inputs))
        model.train()
        return time.perf_counter() - start


def variant_memory(variant: str, batch_size: int, steps: int,
                   model: str = DEFAULT_MODEL) -> dict:
    """Peak RSS of one variant in this process (run it in a fresh one)."""
    data = random_batch(batch_size)
    net, optim = build_model(variant_config(variant, model),
                             torch.device('cpu'))
    build_peak = peak_rss_mib()
    was_reset = reset_peak_rss()
    before = rss_mib() if was_reset else build_peak
    step_times({variant: (net, optim)}, data, torch.device('cpu'), steps,
               0)
    peak = peak_rss_mib()
    return dict(
        variant=variant,
        peak_rss_mib=max(peak, build_peak),
        rss_before_steps_mib=before,
        step_peak_increase_mib=peak - before,
        peak_reset=was_reset)


def measure_memory(batch_size: int, steps: int, threads: int = 0,
                   model: str = DEFAULT_MODEL) -> Dict[str, dict]:
    """:func:`variant_memory` of every variant, each in a fresh Python."""
    out = {}
    for variant in BASE_VARIANTS:
        # (importing the step_time module imports the package: registered)
        code = ('import json, torch\n'
                f'if {threads}: torch.set_num_threads({threads})\n'
                'from mmsmmix.benchmarks.step_time import variant_memory\n'
                f'print(json.dumps(variant_memory({variant!r}, '
                f'{batch_size}, {steps}, {model!r})))')
        res = subprocess.run([sys.executable, '-c', code], check=True,
                             capture_output=True, text=True)
        out[variant] = json.loads(res.stdout.strip().splitlines()[-1])
    return out


def _median_ratio(times: Dict[str, List[float]], a: str, b: str) -> float:
    return statistics.median(x / y for x, y in zip(times[a], times[b]))


def run(rounds: int = 10,
        warmup: int = 3,
        batch_size: int = 8,
        mix_reps: int = 5,
        mem_steps: int = 3,
        memory: bool = True,
        threads: int = 0,
        variants=None,
        precisions=PRECISIONS,
        model: str = DEFAULT_MODEL) -> dict:
    """Measure every variant (default: all of the model's) in every
    precision side by side (one process, round-robin, the order rotating);
    the numbers as a dict."""
    pair = _pair(model)
    variants = model_variants(model) if variants is None else variants
    for needed in ('cutmix', 'smmix'):
        if needed not in variants:
            raise ValueError(f'variants must include {needed!r} (the '
                             'reference and the costed step)')
    env = dict(environment(), batch_size=batch_size, rounds=rounds,
               warmup=warmup, model=model, model_label=pair.label,
               configs=dict(baseline=pair.baseline, smmix=pair.smmix))
    device = torch.device('cpu')
    data = random_batch(batch_size)
    keys = [(v, p) for p in precisions for v in variants]
    models = {(v, p): build_model(variant_config(v, model), device,
                                  bf16=p == 'bf16') for v, p in keys}
    costs = SMMixCosts(models['smmix', precisions[0]][0], data)
    parts = dict(mix=[], clean=[], clean_bf16=[], plain=[], guard=[])

    def measure_parts():
        parts['mix'].extend(costs.mixing_ops() for _ in range(mix_reps))
        parts['clean'].append(costs.clean_forward())
        parts['clean_bf16'].append(costs.clean_forward(torch.bfloat16))
        parts['plain'].append(costs.plain_eval_forward())
        parts['guard'].append(costs.guard())

    times = {k: [] for k in keys}
    for rnd in range(warmup + rounds):
        shift = rnd % len(keys)  # no variant always runs first
        for key in keys[shift:] + keys[:shift]:
            seconds = time_step(*models[key], data, device)
            if rnd >= warmup:
                times[key].append(seconds)
        measure_parts()
    env['loadavg_after'] = loadavg()

    median = statistics.median
    by_p = {p: {v: times[v, p] for v in variants} for p in precisions}
    step = {p: {v: median(t) for v, t in by_p[p].items()}
            for p in precisions}
    first = precisions[0]
    n = warmup * mix_reps
    mix_s = median(parts['mix'][n:])
    guard_s = median(parts['guard'][warmup:])
    results = dict(
        env=env,
        precisions=list(precisions),
        variants=list(variants),
        step_s=step,
        step_s_iqr={p: {v: quartiles(t) for v, t in by_p[p].items()}
                    for p in precisions},
        step_s_all={p: by_p[p] for p in precisions},
        ratio_to_cutmix={p: {v: _median_ratio(by_p[p], v, 'cutmix')
                             for v in variants} for p in precisions},
        ratio_of_medians_to_cutmix={
            p: {v: step[p][v] / step[p]['cutmix'] for v in variants}
            for p in precisions},
        bf16_over_fp32={
            v: statistics.median(b / f for b, f in zip(times[v, 'bf16'],
                                                       times[v, 'fp32']))
            for v in variants} if set(PRECISIONS) <= set(precisions)
        else None,
        smmix_minus_cutmix_s=median(
            a - b for a, b in zip(by_p[first]['smmix'],
                                  by_p[first]['cutmix'])),
        mixing_ops_s=mix_s,
        mixing_share_of_smmix_step=mix_s / step[first]['smmix'],
        nonfinite_guard_s=guard_s,
        nonfinite_guard_share_of_smmix_step=guard_s / step[first]['smmix'],
        clean_forward_s=median(parts['clean'][warmup:]),
        clean_forward_bf16_s=median(parts['clean_bf16'][warmup:]),
        clean_forward_share_of_cutmix_step=median(
            a / b for a, b in zip(parts['clean'][warmup:],
                                  by_p[first]['cutmix'])),
        eval_forward_without_probe_s=median(parts['plain'][warmup:]),
        memory=measure_memory(batch_size, mem_steps, threads, model)
        if memory else None,
        memory_method=('peak RSS (/proc/self/status VmHWM) of a fresh '
                       'process per base variant that builds the model and '
                       f'runs {mem_steps} float32 train steps; "rise" = '
                       'peak during the steps minus RSS before them (peak '
                       'reset with /proc/self/clear_refs)'),
        targets=dict(
            smmix_step_ratio_max=TARGET_SMMIX_STEP_RATIO,
            smmix_bf16_step_ratio_max=TARGET_SMMIX_BF16_STEP_RATIO,
            mixing_share_max=TARGET_MIX_SHARE))
    ratio = results['ratio_to_cutmix'][first]
    results['pass'] = dict(
        step_ratio=ratio['smmix'] <= TARGET_SMMIX_STEP_RATIO,
        mixing_share=results['mixing_share_of_smmix_step'] <
        TARGET_MIX_SHARE)
    if 'smmix_bf16' in variants:
        results['pass']['bf16_pass_step_ratio'] = \
            ratio['smmix_bf16'] <= TARGET_SMMIX_BF16_STEP_RATIO
    return results


def report(r: dict) -> str:
    """The measurement as Markdown."""
    env, mem, precisions = r['env'], r['memory'], r['precisions']
    first = precisions[0]
    lines = [
        f"## Training-step time, {env['model_label']} "
        f"224px, batch {env['batch_size']}, CPU\n",
        f"{env['date']}; torch {env['torch']}, mmpretrain "
        f"{env['mmpretrain']}, mmengine {env['mmengine']}, mmsmmix "
        f"{env['mmsmmix']}, Python {env['python']}; {env['threads']} "
        f"intra-op / {env['interop_threads']} inter-op threads, "
        f"{env['cpu']} ({env['cpu_count']} CPUs, {instruction_set(env)}; "
        "load average "
        f"{env['loadavg_before']} before, {env['loadavg_after']} after "
        f"the timing). Median of {env['rounds']} round-robin rounds "
        f"after {env['warmup']} warm-up rounds, every variant in every "
        f"precision ({', '.join(precisions)}) in one process.\n"
    ]
    if not env['cpu_bf16_native']:
        lines.append(
            'bfloat16 is emulated on this CPU: its bf16 figures (bf16 '
            'training and the bf16 motivating pass) measure the emulation, '
            "a slowdown; `enabled='auto'` / `motivating_dtype='auto'` stay "
            'float32 here.\n')
    header = ['variant']
    for p in precisions:
        header += [f'{p} step (s)', f'{p} vs CutMix']
    if r['bf16_over_fp32']:
        header.append('bf16 / fp32')
    if mem:
        header += ['peak RSS (MiB)', 'RSS rise in steps (MiB)']
    rows = []
    for v in r['variants']:
        row = [LABELS[v]]
        for p in precisions:
            row += [f"{r['step_s'][p][v]:.3f}",
                    f"{r['ratio_to_cutmix'][p][v]:.2f}x"]
        if r['bf16_over_fp32']:
            row.append(f"{r['bf16_over_fp32'][v]:.2f}")
        if mem:
            row += ([f"{mem[v]['peak_rss_mib']:.0f}",
                     f"{mem[v]['step_peak_increase_mib']:.0f}"]
                    if v in mem else ['–', '–'])
        rows.append(row)
    lines.append(markdown_table(header, rows))
    extra = r['smmix_minus_cutmix_s']
    rest = extra - r['clean_forward_s'] - r['mixing_ops_s']
    lines += [
        '',
        '- "vs CutMix": median over rounds of (variant step / CutMix step '
        'of the same round and precision); "bf16 / fp32": the same of the '
        'variant\'s bf16 over its fp32 step',
        f"- SMMix mixing ops (attention score + max-min region mix + "
        f"label mixing): {r['mixing_ops_s'] * 1e3:.2f} ms = "
        f"{r['mixing_share_of_smmix_step']:.2%} of the {first} SMMix step",
        f"- non-finite guard (input check + finite check of the loss "
        f"terms in `parse_losses`): {r['nonfinite_guard_s'] * 1e3:.2f} ms"
        f" = {r['nonfinite_guard_share_of_smmix_step']:.2%} of the SMMix "
        'step',
        f"- clean forward (eval, no grad, with attention probe): "
        f"{r['clean_forward_s']:.3f} s in float32 = "
        f"{r['clean_forward_share_of_cutmix_step']:.1%} of the {first} "
        f"CutMix step (paired), {r['clean_forward_bf16_s']:.3f} s under "
        'bfloat16 autocast; the same float32 eval forward without the '
        f"probe: {r['eval_forward_without_probe_s']:.3f} s",
        f"- SMMix step minus CutMix step ({first}, paired median): "
        f"{extra * 1e3:.0f} ms = clean forward "
        f"{r['clean_forward_s'] * 1e3:.0f} ms + mixing ops "
        f"{r['mixing_ops_s'] * 1e3:.0f} ms + rest {rest * 1e3:.0f} ms "
        '(head terms, timing noise)',
    ]
    if mem:
        lines.append(f"- memory: {r['memory_method']}")
    ok, ratio = r['pass'], r['ratio_to_cutmix'][first]
    lines += [
        '',
        f"{'PASS' if ok['step_ratio'] else 'FAIL'}: SMMix-branch step "
        f"{ratio['smmix']:.2f}x CutMix ({first}; target <= "
        f'{TARGET_SMMIX_STEP_RATIO}x)',
        f"{'PASS' if ok['mixing_share'] else 'FAIL'}: mixing "
        f"{r['mixing_share_of_smmix_step']:.2%} of the SMMix step "
        f'(target < {TARGET_MIX_SHARE:.0%})',
    ]
    if 'bf16_pass_step_ratio' in ok:
        lines.append(
            f"{'PASS' if ok['bf16_pass_step_ratio'] else 'FAIL'}: SMMix-"
            f"branch step with the bf16 motivating pass "
            f"{ratio['smmix_bf16']:.2f}x CutMix ({first}; target <= "
            f'{TARGET_SMMIX_BF16_STEP_RATIO}x)')
    return '\n'.join(lines)


def write_json(results: dict, path: Optional[str]) -> None:
    if path:
        with open(path, 'w') as f:
            json.dump(results, f, indent=2)
