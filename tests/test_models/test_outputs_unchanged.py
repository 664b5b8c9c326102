"""Numerics guard: every method of ours gives, on fixed inputs and seeds,
the draws, mixed batches, targets, logits, losses and gradients stored in
``tests/data/mix_outputs.json``, and resumes from random states saved by
the earlier code.

Two kinds of entries, so that the guard holds on every x86 CPU and thread
count and still catches a change of the maths:

- **exact** (SHA-256 of the bytes, or the value itself): what no
  instruction set changes. The random draws (branch, λ, region side,
  boxes, partners) and generator states, integer and boolean tensors
  (windows, masks), and every batch the backbone receives (the inputs,
  and the mixed images: pixels pasted or blended by the draws and by
  windows chosen from float scores).
- **close** (stored float32 values): what the hardware's summation order
  decides in the last bits: targets built from attention, the head's
  logits, the losses and the per-parameter gradient norms. Each element
  must satisfy ``|got - stored| <= RTOL * max|stored|`` of its entry.
  Measured on an AMD EPYC with AVX-512 (2026-12-03, torch 2.14.1): the
  exact entries are equal under AVX-512 and AVX2 dispatch
  (``AVX2_ENV``) and with 1 and 2 threads; the close ones differ by at
  most 2.6e-6 of their scale between the instruction sets (SMMix's
  ``loss_con``) and 4e-8 between thread counts. ``RTOL = 2e-5`` leaves
  room for other CPUs and stays five times below the 1e-4 change of one
  coefficient that ``test_guard_catches_a_changed_coefficient`` catches.

The maths itself is checked against hand computations elsewhere
(``test_smmix_augment.py``, ``test_mixpro.py``, ...): this guard only
says that a change of structure left the numbers alone.

Regenerating the stored values (``python -m
tests.test_models.test_outputs_unchanged --write``) is allowed only for a
change that is meant to change the numbers, said so in its commit; never
to make a failing change pass. ``--check [--threads N]`` runs the guard as
a script (what the portability test runs under other dispatch settings);
``make guard`` runs it under both instruction sets and 1 and 2 threads.
The values were first written by the code of commit 9f6e2ca, whose exact
entries equal the digests its predecessor recorded at commit 23cf60d.

MMPretrain's Mixup, CutMix and ResizeMix are not here: they draw from the
process's global generators, which the protocol redesign replaced by
synced streams (their maths is checked in ``test_mmpretrain_adapter.py``).
"""
import argparse
import dataclasses
import hashlib
import json
import logging
import os
import os.path as osp
import re
import subprocess
import sys
from typing import Dict, List

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import mmsmmix  # noqa: F401
from tests.helpers import FMNIST_CONFIGS, REPO_ROOT

GOLDEN = osp.join(REPO_ROOT, 'tests', 'data', 'mix_outputs.json')
METHODS = ('smmix', 'smmix-dm', 'fmix', 'transmix', 'mixpro', 'rankmixup')
STEPS = 8
RESUME_AT = 4  # random states saved before this step
MMPRETRAIN_AUGMENTS = ('Mixup', 'CutMix', 'ResizeMix')
LABELS = (3, 1, 4, 1)
#: Tolerance of the "close" entries, relative to each entry's largest
#: magnitude (see the module docstring for the measured spread).
RTOL = 2e-5
#: The dispatch settings that make an AVX-512 machine compute as an AVX2
#: one does (PyTorch's kernels, MKL's BLAS, oneDNN's primitives).
AVX2_ENV = dict(ATEN_CPU_CAPABILITY='avx2', MKL_ENABLE_INSTRUCTIONS='AVX2',
                ONEDNN_MAX_CPU_ISA='AVX2')


def _model(method: str):
    cfg = Config.fromfile(
        osp.join(FMNIST_CONFIGS, f'vit-mini-p7_{method}_1xb64_fmnist.py'))
    augments = cfg.model.train_cfg.augments
    if isinstance(augments, list):  # TransMix's recipe: ours only
        cfg.model.train_cfg = dict(augments=[
            a for a in augments if a['type'] not in MMPRETRAIN_AUGMENTS
        ])
    torch.manual_seed(0)  # weights and the streams' seed
    model = MODELS.build(cfg.model)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)  # init_weights logs every parameter
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)
    # Away from the initial state (where every logit is near 0 and every
    # cross-entropy near log K), so that the losses tell methods apart.
    generator = torch.Generator().manual_seed(2)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(torch.randn(param.shape, generator=generator) * 0.2)
    return model.train()


def _inputs() -> torch.Tensor:
    generator = torch.Generator().manual_seed(1)
    return torch.randn(len(LABELS), 1, 28, 28, generator=generator)


def digest(tensor: torch.Tensor) -> str:
    """Dtype, shape and SHA-256 of the bytes: equal iff bit-identical."""
    tensor = tensor.detach().cpu().contiguous()
    data = hashlib.sha256(tensor.numpy().tobytes()).hexdigest()
    return f'{tensor.dtype} {tuple(tensor.shape)} {data}'


def close_entry(tensor: torch.Tensor) -> dict:
    """A float32 tensor's stored form: dtype, shape and its values (nine
    significant digits: each float32 exactly)."""
    tensor = tensor.detach().cpu()
    return dict(dtype=str(tensor.dtype), shape=list(tensor.shape),
                values=[float(f'{v:.9g}') for v in tensor.flatten().tolist()])


def entries(key: str, value) -> Dict[str, object]:
    """``value`` as guard entries: exact for draws (numbers, strings),
    integer and boolean tensors and image batches (4-D), close for other
    float tensors; dicts, sequences and dataclasses item by item, other
    objects dropped."""
    if dataclasses.is_dataclass(value):
        value = {f.name: getattr(value, f.name)
                 for f in dataclasses.fields(value)}
    elif isinstance(value, (tuple, list)):
        value = dict(enumerate(value))
    if isinstance(value, dict):
        out = {}
        for name, item in value.items():
            out.update(entries(f'{key}.{name}', item))
        return out
    if isinstance(value, torch.Tensor):
        if value.dim() == 4 or not value.is_floating_point():
            return {key: digest(value)}
        return {key: close_entry(value)}
    if isinstance(value, (bool, int, float, str)):
        return {key: repr(value)}
    return {}


def _step(model, inputs: torch.Tensor) -> Dict[str, object]:
    """One ``loss()`` and its backward: every backbone input (clean and
    mixed forwards) and what the augment drew (exact), every head output,
    the targets, the losses and the gradient norm of every parameter
    (close)."""
    seen, logits, drawn = [], [], []
    hooks = [
        model.backbone.register_forward_pre_hook(
            lambda module, args: seen.append(args[0].detach().clone())),
        model.head.register_forward_hook(
            lambda module, args, out: logits.append(out.detach().clone())),
    ]
    mix = model.mix

    def spy(*args, **kwargs):
        result = mix(*args, **kwargs)
        drawn.append(result.info)
        return result

    model.mix = spy
    samples = [DataSample().set_gt_label(k) for k in LABELS]
    try:
        losses = model.loss(inputs.clone(), samples)
    finally:
        del model.mix
        for hook in hooks:
            hook.remove()
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    total = sum(v for v in losses.values() if v.requires_grad)
    grads = torch.autograd.grad(total, [p for _, p in named],
                                allow_unused=True)
    out = {}
    for i, x in enumerate(seen):
        out.update(entries(f'backbone_input.{i}', x))
    for i, info in enumerate(drawn):
        out.update(entries(f'info.{i}', info))
    for i, x in enumerate(logits):
        out.update(entries(f'head_output.{i}', x))
    out.update(entries('targets', torch.stack([s.gt_score
                                               for s in samples])))
    out.update(entries('loss', dict(losses)))
    out.update(entries('grad_norm', torch.stack([
        torch.zeros(()) if g is None else g.norm() for g in grads])))
    return out


def _stream_states(model) -> dict:
    return {
        name: stream.state_dict()
        for name, stream in model.random_streams().items()
    }


def record(method: str, model=None) -> dict:
    """The outputs of ``STEPS`` steps and the random states before step
    ``RESUME_AT``."""
    model = _model(method) if model is None else model
    inputs = _inputs()
    steps, states = [], None
    for step in range(STEPS):
        if step == RESUME_AT:
            states = _stream_states(model)
        steps.append(_step(model, inputs))
    return dict(steps=steps, states=states)


def _values(entry: dict) -> torch.Tensor:
    """A close entry's values as stored (float32), in float64 to subtract."""
    return torch.tensor(entry['values'], dtype=torch.float32).double()


def compare(got: dict, stored: dict, where: str,
            rtol: float = RTOL) -> List[str]:
    """What differs between two steps' entries: exact ones that are not
    equal, close ones beyond ``rtol`` (each named, with its deviation)."""
    if sorted(got) != sorted(stored):
        return [f'{where}: entries {sorted(set(got) ^ set(stored))} '
                'appeared or vanished']
    problems = []
    for key, value in stored.items():
        new = got[key]
        if not isinstance(value, dict):
            if new != value:
                problems.append(f'{where}: {key} changed (exact)')
            continue
        if (new['dtype'], new['shape']) != (value['dtype'], value['shape']):
            problems.append(f"{where}: {key} is {new['dtype']} "
                            f"{new['shape']}, was {value['dtype']} "
                            f"{value['shape']}")
            continue
        a, b = _values(new), _values(value)
        scale = b.abs().max().item() if b.numel() else 0.
        deviation = (a - b).abs().max().item() if b.numel() else 0.
        if not deviation <= rtol * scale:  # also catches NaN
            problems.append(
                f'{where}: {key} deviates by {deviation:.3g} '
                f'({deviation / max(scale, 1e-300):.3g} of its largest '
                f'value {scale:.4g}; tolerance {rtol:g})')
    return problems


def relative_spread(got: dict, stored: dict) -> float:
    """The largest deviation of the close entries of two steps, relative to
    each entry's largest stored magnitude (what ``RTOL`` bounds)."""
    worst = 0.
    for key, value in stored.items():
        if isinstance(value, dict) and value['values']:
            a, b = _values(got[key]), _values(value)
            scale = b.abs().max().item()
            if scale:
                worst = max(worst, (a - b).abs().max().item() / scale)
    return worst


def resume(method: str, saved_states: dict, model=None) -> List[dict]:
    """Steps ``RESUME_AT`` .. ``STEPS - 1`` of a model whose streams load
    ``saved_states`` (the checkpoint format's names)."""
    model = _model(method) if model is None else model
    streams = model.random_streams()
    assert sorted(streams) == sorted(saved_states)
    for name, state in saved_states.items():
        streams[name].load_state_dict(state)
    inputs = _inputs()
    return [_step(model, inputs) for _ in range(RESUME_AT, STEPS)]


def check(golden: dict, method: str, model=None) -> List[str]:
    """Every difference of ``method``'s steps (of ``model``, by default
    the method's own) from the stored values."""
    got = record(method, model)
    problems = []
    for step, (new, old) in enumerate(zip(got['steps'],
                                          golden[method]['steps'])):
        problems += compare(new, old, f'{method} step {step}')
    return problems


def write_json(path: str, data: dict) -> None:
    """One entry a line, each list of values on its line."""
    text = json.dumps(data, indent=1)
    text = re.sub(r'\[\s*([-+.,\deE\s]*?)\s*\]',
                  lambda m: '[' + re.sub(r'\s+', ' ', m.group(1)) + ']', text)
    with open(path, 'w') as f:
        f.write(text + '\n')


def load_golden() -> dict:
    with open(GOLDEN) as f:
        return json.load(f)


@pytest.fixture(scope='module')
def golden():
    return load_golden()


@pytest.mark.parametrize('method', METHODS)
def test_outputs_unchanged(golden, method):
    problems = check(golden, method)
    assert not problems, '\n'.join(problems)


@pytest.mark.parametrize('method', METHODS)
def test_resumes_from_states_saved_before(golden, method):
    """Random states in the old checkpoint format load by the old names,
    and the next steps equal the uninterrupted run's."""
    problems = []
    for step, new in enumerate(resume(method, golden[method]['states']),
                               RESUME_AT):
        problems += compare(new, golden[method]['steps'][step],
                            f'{method} resumed step {step}')
    assert not problems, '\n'.join(problems)


def test_every_kind_of_entry_is_guarded(golden):
    """Each method's steps hold exact inputs and draws and close targets,
    logits, losses and gradients (an empty guard would pass anything)."""
    for method in METHODS:
        keys = set().union(*golden[method]['steps'])
        step = golden[method]['steps'][0]
        assert isinstance(step['backbone_input.0'], str), method
        for prefix in ('targets', 'head_output.', 'loss.', 'grad_norm'):
            assert any(k.startswith(prefix) and isinstance(step[k], dict)
                       for k in step), (method, prefix)
        assert any(k.startswith('info.') for k in keys), method


@pytest.mark.parametrize('method, perturb', [
    ('smmix', 'label_smoothing'),
    ('transmix', 'loss_weight'),
    ('rankmixup', 'loss_weight'),
])
def test_guard_catches_a_changed_coefficient(golden, method, perturb):
    """A coefficient of a method's maths changed by one part in 1e4 fails
    the guard: its tolerance is far below a real change."""
    model = _model(method)
    if perturb == 'label_smoothing':
        model.augments[0].label_smoothing += 1e-4
    elif method == 'transmix':
        model.head.loss_module.loss_weight *= 1 + 1e-4
    else:
        model.augments[0].loss.loss_weight *= 1 + 1e-4
    assert check(golden, method, model), \
        f'{method}: {perturb} changed by 1e-4 went unnoticed'


@pytest.mark.slow  # fresh Pythons
@pytest.mark.parametrize('dispatch', ['default', 'avx2'])
def test_guard_holds_on_both_instruction_sets_and_thread_counts(dispatch):
    """The guard, run as a script with 1 and 2 threads, under the machine's
    own dispatch and under the AVX2 settings (PyTorch, MKL, oneDNN)."""
    env = dict(os.environ)
    for name in AVX2_ENV:
        env.pop(name, None)
    if dispatch == 'avx2':
        env.update(AVX2_ENV)
    proc = subprocess.run(
        [sys.executable, '-m', 'tests.test_models.test_outputs_unchanged',
         '--check', '--threads', '1', '2'],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    capability = 'AVX2' if dispatch == 'avx2' else ''
    assert f'dispatch {capability}' in proc.stdout
    assert proc.stdout.count('guard holds') == 2


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument('--check', action='store_true',
                      help='compare with the stored values; exit 1 if any '
                      'entry differs')
    mode.add_argument('--write', action='store_true',
                      help='store the current values (only for a change '
                      'meant to change the numbers)')
    mode.add_argument('--spread', metavar='JSON',
                      help='the largest relative deviation of the close '
                      'entries from another run written with --dump')
    mode.add_argument('--dump', metavar='JSON',
                      help='write the current values elsewhere')
    parser.add_argument('--threads', type=int, nargs='+', default=[0],
                        help='intra-op thread counts to check with (0: '
                        "torch's default)")
    args = parser.parse_args(argv)
    if args.write or args.dump:
        if args.threads[0]:
            torch.set_num_threads(args.threads[0])
        path = GOLDEN if args.write else args.dump
        write_json(path, {m: record(m) for m in METHODS})
        print(f'wrote {path}')
        return 0
    golden = load_golden()
    if args.spread:
        with open(args.spread) as f:
            other = json.load(f)
        worst = max(relative_spread(a, b) for m in METHODS
                    for a, b in zip(other[m]['steps'], golden[m]['steps']))
        print(f'largest relative deviation {worst:.3g}')
        return 0
    failed = False
    for threads in args.threads:
        if threads:
            torch.set_num_threads(threads)
        problems = [p for m in METHODS for p in check(golden, m)]
        print(f'dispatch {torch.backends.cpu.get_cpu_capability()}, '
              f'{torch.get_num_threads()} threads: ' +
              ('guard holds' if not problems else
               f'{len(problems)} differences\n' + '\n'.join(problems)))
        failed |= bool(problems)
    return int(failed)


if __name__ == '__main__':
    sys.exit(main())
