"""Time one training step of DeiT-Tiny with and without batch mixing.

All variants are built in one process and stepped round-robin (one step of
each per round, after a warm-up), so drifting machine load hits them alike;
the reported figure is the median over the rounds.

Variants (DeiT-Tiny: mmpretrain ``VisionTransformer`` arch ``deit-tiny``,
224x224x3, 1000 classes, drop-path 0.1, AdamW):

- ``nomix``: ``ImageClassifier`` + ``VisionTransformerClsHead``, no mixing;
- ``mixup``: the same with ``train_cfg.augments=Mixup(alpha=0.8)``;
- ``cutmix``: the same with ``train_cfg.augments=CutMix(alpha=1.0)``;
- ``smmix``: ``MixImageClassifier`` + ``SMMixClsHead`` + ``SMMix`` with
  ``switch_prob=1.0`` (every step is an SMMix step: clean forward, attention
  probe, max-min region mixing, fine and consistency losses).

A step is ``model.train_step(data, optim_wrapper)``: data preprocessor
(normalisation, one-hot, batch augment), forward, backward, AdamW update.

Also reported: the non-finite guard of ``MixImageClassifier`` (input check
and the loss terms' finite check, paired against MMPretrain's plain
``parse_losses``); the pure SMMix mixing ops (``patch_attention_score`` +
``max_min_region_mix`` + label smoothing/mixing) on the same tensors, as a
share of the SMMix step; ``model.clean_forward`` alone, as a share of the
CutMix step (and the same eval forward without the attention probe); and
peak memory, as the peak resident set size (``VmHWM`` in
``/proc/self/status``) of a fresh subprocess per variant (``--only VARIANT``)
that builds the model and runs a few steps. ``getrusage().ru_maxrss`` is not
used because it is inherited across ``execve``: every subprocess would report
the parent's larger peak.

Example:
    python tools/benchmark/step_time.py --rounds 10 --json step_time.json
"""
import argparse
import datetime
import json
import logging
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F
from mmengine.logging import MMLogger
from mmengine.optim import OptimWrapper
from mmpretrain.models import ImageClassifier
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import mmsmmix  # noqa: F401  (registers modules)
from mmsmmix.models.augments.smmix import smooth_labels
from mmsmmix.models.classifiers.mix_image_classifier import all_finite
from mmsmmix.ops import (max_min_region_mix, patch_attention_score,
                         region_sizes)

VARIANTS = ('nomix', 'mixup', 'cutmix', 'smmix')
LABELS = dict(
    nomix='no mixing',
    mixup='Mixup (MMPretrain)',
    cutmix='CutMix (MMPretrain)',
    smmix='SMMix branch')
NUM_CLASSES = 1000
IMG_SIZE = 224
TARGET_STEP_RATIO = 1.35
TARGET_MIX_SHARE = 0.02


def model_cfg(variant: str) -> dict:
    """Config of one variant; DeiT-Tiny as in mmpretrain's deit configs."""
    backbone = dict(
        type='VisionTransformer',
        arch='deit-tiny',
        img_size=IMG_SIZE,
        patch_size=16,
        drop_path_rate=0.1)
    head = dict(
        type='VisionTransformerClsHead',
        num_classes=NUM_CLASSES,
        in_channels=192,
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'))
    preprocessor = dict(
        type='ClsDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True,
        num_classes=NUM_CLASSES)
    init_cfg = [
        dict(type='TruncNormal', layer='Linear', std=.02),
        dict(type='Constant', layer='LayerNorm', val=1., bias=0.),
    ]
    cfg = dict(
        type='ImageClassifier',
        backbone=backbone,
        head=head,
        data_preprocessor=preprocessor,
        init_cfg=init_cfg)
    if variant == 'mixup':
        cfg['train_cfg'] = dict(augments=dict(type='Mixup', alpha=0.8))
    elif variant == 'cutmix':
        cfg['train_cfg'] = dict(augments=dict(type='CutMix', alpha=1.0))
    elif variant == 'smmix':
        cfg['type'] = 'MixImageClassifier'
        backbone['out_type'] = 'raw'
        head.update(
            type='SMMixClsHead',
            loss=dict(type='CrossEntropyLoss', use_soft=True))
        cfg['train_cfg'] = dict(
            augments=dict(
                type='SMMix',
                switch_prob=1.0,
                mixup_alpha=0.8,
                label_smoothing=0.1))
    elif variant != 'nomix':
        raise ValueError(f'unknown variant {variant!r}')
    return cfg


def build(variant: str):
    """Model (train mode, seeded init) and its AdamW optim wrapper."""
    torch.manual_seed(0)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)  # init_weights logs every parameter
    try:
        model = MODELS.build(model_cfg(variant))
        model.init_weights()
    finally:
        logger.setLevel(level)
    model.train()
    optim = OptimWrapper(
        torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=0.05))
    return model, optim


def make_images(batch_size: int, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    images = torch.randint(
        0, 256, (batch_size, 3, IMG_SIZE, IMG_SIZE),
        dtype=torch.uint8,
        generator=gen)
    labels = torch.randint(0, NUM_CLASSES, (batch_size, ), generator=gen)
    return images, labels


def make_data(images: torch.Tensor, labels: torch.Tensor) -> dict:
    """A fresh data batch (train_step writes gt_score into the samples)."""
    return dict(
        inputs=list(images),
        data_samples=[DataSample().set_gt_label(int(y)) for y in labels])


def timed_step(model, optim, images, labels) -> float:
    data = make_data(images, labels)
    start = time.perf_counter()
    model.train_step(data, optim)
    return time.perf_counter() - start


class MixOps:
    """The pure mixing ops of one SMMix step, on fixed tensors."""

    def __init__(self, model, images, labels):
        data = model.data_preprocessor(make_data(images, labels), True)
        self.inputs = data['inputs']
        self.samples = data['data_samples']
        self.onehot = F.one_hot(labels, NUM_CLASSES).float()
        self.model = model
        aug = model.augments[0]
        self.aug = aug
        _, record = model.clean_forward(self.inputs)
        self.record = record
        self.sizes = region_sizes(record.grid[0], aug.min_side_ratio,
                                  aug.max_side_ratio)
        self.calls = 0

    def mix(self) -> float:
        """Time score + region mix + label mix once (cycling region sizes)."""
        region = self.sizes[self.calls % len(self.sizes)]
        self.calls += 1
        rec = self.record
        start = time.perf_counter()
        scores = patch_attention_score(rec.attn, self.aug.score,
                                       rec.num_extra_tokens)
        mixed, mask, lam = max_min_region_mix(self.inputs, scores, region)
        score = smooth_labels(self.onehot, self.aug.label_smoothing)
        partner = score.flip(0)
        mixed_score = lam * score + (1 - lam) * partner
        elapsed = time.perf_counter() - start
        del mixed, mask, mixed_score
        return elapsed

    def guard(self) -> float:
        """Time the non-finite guard of one step: the input check that
        ``loss()`` makes, plus ``parse_losses`` with the guard minus
        MMPretrain's plain ``parse_losses`` on the same losses."""
        model = self.model
        losses = model.loss(self.inputs, self.samples)  # arms the guard
        start = time.perf_counter()
        all_finite(self.inputs)
        model.parse_losses(losses)
        guarded = time.perf_counter() - start
        start = time.perf_counter()
        ImageClassifier.parse_losses(model, losses)
        return guarded - (time.perf_counter() - start)

    def clean_forward(self) -> float:
        start = time.perf_counter()
        self.model.clean_forward(self.inputs)
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


def _proc_status_mib(field: str) -> float:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1]) / 1024  # kB
    raise KeyError(field)


def peak_rss_mib() -> float:
    """Peak resident set size of this process, in MiB.

    ``VmHWM`` of ``/proc/self/status`` (Linux). ``getrusage().ru_maxrss`` is
    not used: it survives ``execve``, so a subprocess would report the larger
    peak of its parent.
    """
    try:
        return _proc_status_mib('VmHWM')
    except (OSError, KeyError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> bool:
    """Reset the peak RSS to the current RSS (Linux clear_refs 5)."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def run_only(variant: str, batch_size: int, steps: int) -> dict:
    """Peak RSS of one variant in this (fresh) process."""
    images, labels = make_images(batch_size)
    model, optim = build(variant)
    build_peak = peak_rss_mib()
    was_reset = reset_peak_rss()
    start = _proc_status_mib('VmRSS') if was_reset else build_peak
    for _ in range(steps):
        timed_step(model, optim, images, labels)
    peak = peak_rss_mib()
    return dict(
        variant=variant,
        peak_rss_mib=max(peak, build_peak),
        rss_before_steps_mib=start,
        step_peak_increase_mib=peak - start,
        peak_reset=was_reset)


def measure_memory(args) -> dict:
    out = {}
    for variant in VARIANTS:
        cmd = [
            sys.executable, __file__, '--only', variant, '--batch-size',
            str(args.batch_size), '--mem-steps',
            str(args.mem_steps)
        ]
        if args.threads:
            cmd += ['--threads', str(args.threads)]
        res = subprocess.run(
            cmd, check=True, capture_output=True, text=True)
        out[variant] = json.loads(res.stdout.strip().splitlines()[-1])
    return out


def median(values):
    return statistics.median(values)


def quartiles(values):
    """(25th, 75th) percentiles."""
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4, method='inclusive')
    return q[0], q[2]


def loadavg() -> str:
    try:
        with open('/proc/loadavg') as f:
            return ' '.join(f.read().split()[:3])
    except OSError:
        return 'n/a'


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rounds', type=int, default=10,
                        help='measured round-robin rounds (default 10)')
    parser.add_argument('--warmup', type=int, default=3,
                        help='unmeasured steps per variant (default 3)')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--threads', type=int, default=0,
                        help='torch threads (default: torch default)')
    parser.add_argument('--mix-reps', type=int, default=5,
                        help='mixing-op timings per round (default 5)')
    parser.add_argument('--mem-steps', type=int, default=3,
                        help='steps per memory subprocess (default 3)')
    parser.add_argument('--no-memory', action='store_true',
                        help='skip the per-variant memory subprocesses')
    parser.add_argument('--json', metavar='FILE',
                        help='also write all numbers to FILE')
    parser.add_argument('--only', choices=VARIANTS,
                        help=argparse.SUPPRESS)  # memory subprocess
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    if args.only:
        print(json.dumps(run_only(args.only, args.batch_size,
                                  args.mem_steps)))
        return 0

    import mmengine
    import mmpretrain
    env = dict(
        date=datetime.datetime.now().astimezone().isoformat(
            timespec='seconds'),
        python=platform.python_version(),
        torch=torch.__version__,
        mmpretrain=mmpretrain.__version__,
        mmengine=mmengine.__version__,
        mmsmmix=mmsmmix.__version__,
        threads=torch.get_num_threads(),
        interop_threads=torch.get_num_interop_threads(),
        cpu=platform.processor() or platform.machine(),
        cpu_count=os.cpu_count(),
        loadavg_before=loadavg(),
        batch_size=args.batch_size,
        rounds=args.rounds,
        warmup=args.warmup)

    images, labels = make_images(args.batch_size)
    models = {v: build(v) for v in VARIANTS}
    ops = MixOps(models['smmix'][0], images, labels)

    for _ in range(args.warmup):
        for variant in VARIANTS:
            timed_step(*models[variant], images, labels)
        ops.mix()
        ops.clean_forward()
        ops.plain_eval_forward()
        ops.guard()

    times = {v: [] for v in VARIANTS}
    mix_t, clean_t, plain_t, guard_t = [], [], [], []
    for rnd in range(args.rounds):
        # Rotate the starting variant so no variant always runs first.
        order = VARIANTS[rnd % 4:] + VARIANTS[:rnd % 4]
        for variant in order:
            times[variant].append(
                timed_step(*models[variant], images, labels))
        mix_t.extend(ops.mix() for _ in range(args.mix_reps))
        clean_t.append(ops.clean_forward())
        plain_t.append(ops.plain_eval_forward())
        guard_t.append(ops.guard())
    aug = models['smmix'][0].augments[0]
    assert aug.last_branch == 'smmix', aug.last_branch

    env['loadavg_after'] = loadavg()
    step = {v: median(times[v]) for v in VARIANTS}
    mix_s = median(mix_t)
    clean_s = median(clean_t)
    plain_s = median(plain_t)
    memory = None if args.no_memory else measure_memory(args)

    # Ratios are medians of per-round ratios: the steps of one round run
    # back to back, so a load change on a shared machine cancels out; the
    # ratio of the medians is kept for reference.
    ratio = {
        v: median([a / b for a, b in zip(times[v], times['cutmix'])])
        for v in VARIANTS
    }
    ratio_of_medians = {v: step[v] / step['cutmix'] for v in VARIANTS}
    extra_s = median([a - b for a, b in zip(times['smmix'], times['cutmix'])])
    mix_share = mix_s / step['smmix']
    guard_s = median(guard_t)
    clean_share = median([a / b for a, b in zip(clean_t, times['cutmix'])])
    results = dict(
        env=env,
        step_s=step,
        step_s_iqr={v: quartiles(times[v]) for v in VARIANTS},
        step_s_all=times,
        ratio_to_cutmix=ratio,
        ratio_of_medians_to_cutmix=ratio_of_medians,
        smmix_minus_cutmix_s=extra_s,
        mixing_ops_s=mix_s,
        mixing_share_of_smmix_step=mix_share,
        nonfinite_guard_s=guard_s,
        nonfinite_guard_share_of_smmix_step=guard_s / step['smmix'],
        clean_forward_s=clean_s,
        clean_forward_share_of_cutmix_step=clean_share,
        eval_forward_without_probe_s=plain_s,
        memory=memory,
        memory_method=('peak RSS (/proc/self/status VmHWM) of a fresh '
                       'subprocess per variant that builds the model and '
                       f'runs {args.mem_steps} train steps; "rise" = peak '
                       'during the steps minus RSS before them (peak reset '
                       'with /proc/self/clear_refs)'),
        targets=dict(
            smmix_step_ratio_max=TARGET_STEP_RATIO,
            mixing_share_max=TARGET_MIX_SHARE))
    results['pass'] = dict(
        step_ratio=ratio['smmix'] <= TARGET_STEP_RATIO,
        mixing_share=mix_share < TARGET_MIX_SHARE)

    print_report(results)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=2)
        print(f'\nwrote {args.json}')
    return 0


def print_report(r: dict) -> None:
    env = r['env']
    print(f"## Training-step time, DeiT-Tiny 224px, batch {env['batch_size']}"
          ', CPU\n')
    print(f"{env['date']}; torch {env['torch']}, mmpretrain "
          f"{env['mmpretrain']}, mmengine {env['mmengine']}, mmsmmix "
          f"{env['mmsmmix']}, Python {env['python']}; {env['threads']} "
          f"intra-op / {env['interop_threads']} inter-op threads, "
          f"{env['cpu']} ({env['cpu_count']} CPUs; load average "
          f"{env['loadavg_before']} before, {env['loadavg_after']} after "
          f"the timing). Median of {env['rounds']} round-robin rounds "
          f"after {env['warmup']} warm-up steps of each variant.\n")
    mem = r['memory']
    head = '| variant | median step (s) | IQR (s) | vs CutMix (paired) |'
    rule = '|---|---:|---:|---:|'
    if mem:
        head += ' peak RSS (MiB) | RSS rise in steps (MiB) |'
        rule += '---:|---:|'
    print(head)
    print(rule)
    for v in VARIANTS:
        q1, q3 = r['step_s_iqr'][v]
        row = (f"| {LABELS[v]} | {r['step_s'][v]:.3f} | {q1:.3f}-{q3:.3f} "
               f"| {r['ratio_to_cutmix'][v]:.2f}x |")
        if mem:
            row += (f" {mem[v]['peak_rss_mib']:.0f} | "
                    f"{mem[v]['step_peak_increase_mib']:.0f} |")
        print(row)
    print()
    print('- "vs CutMix (paired)": median over rounds of (variant step / '
          'CutMix step of the same round); ratio of the medians: ' +
          ', '.join(f"{LABELS[v]} {r['ratio_of_medians_to_cutmix'][v]:.2f}x"
                    for v in VARIANTS if v != 'cutmix'))
    print(f"- SMMix mixing ops (attention score + max-min region mix + "
          f"label mixing): {r['mixing_ops_s'] * 1e3:.2f} ms = "
          f"{r['mixing_share_of_smmix_step']:.2%} of the SMMix step")
    print(f"- non-finite guard (input check + finite check of the loss "
          f"terms in `parse_losses`): {r['nonfinite_guard_s'] * 1e3:.2f} ms"
          f" = {r['nonfinite_guard_share_of_smmix_step']:.2%} of the SMMix "
          'step')
    print(f"- extra clean forward (`clean_forward`, eval, no grad, with "
          f"attention probe): {r['clean_forward_s']:.3f} s = "
          f"{r['clean_forward_share_of_cutmix_step']:.1%} of the CutMix step"
          f" (paired; the same eval forward without the probe: "
          f"{r['eval_forward_without_probe_s']:.3f} s)")
    extra = r['smmix_minus_cutmix_s']
    rest = extra - r['clean_forward_s'] - r['mixing_ops_s']
    print(f"- SMMix step minus CutMix step (paired median): "
          f"{extra * 1e3:.0f} ms = clean "
          f"forward {r['clean_forward_s'] * 1e3:.0f} ms + mixing ops "
          f"{r['mixing_ops_s'] * 1e3:.0f} ms + rest {rest * 1e3:.0f} ms "
          '(head fine/consistency terms, timing noise)')
    if mem:
        print(f"- memory: {r['memory_method']}")
    print()
    ok = r['pass']
    print(f"{'PASS' if ok['step_ratio'] else 'FAIL'}: SMMix-branch step "
          f"{r['ratio_to_cutmix']['smmix']:.2f}x CutMix "
          f"(target <= {TARGET_STEP_RATIO}x)")
    print(f"{'PASS' if ok['mixing_share'] else 'FAIL'}: mixing "
          f"{r['mixing_share_of_smmix_step']:.2%} of the SMMix step "
          f"(target < {TARGET_MIX_SHARE:.0%})")


if __name__ == '__main__':
    sys.exit(main())
