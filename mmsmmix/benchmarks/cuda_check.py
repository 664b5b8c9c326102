"""A few-minute check of the training path on one device (CUDA or CPU).

For SMMix (with a float32 and a bfloat16 motivating pass), TransMix, MixPro
and RankMixup (and CutMix, the reference of the speed ratios) it builds each
method's config, and on random images:

1. trains ``iters`` steps (AMP on CUDA) and requires finite losses that
   move the weights;
2. feeds one batch with a NaN pixel and requires the non-finite guard to
   refuse it (``FloatingPointError``) with the weights unchanged;
3. saves a Runner-style checkpoint (weights, optimizer and AMP scaler
   state), reloads it through the safe, strict loader into a freshly built
   model and requires equal weights and logits;
4. times every method's training step round-robin in this one process and
   reports images/s relative to CutMix, and the peak device memory of each
   method's training (beyond what was allocated before it was built).

``deit_small_setting`` is the full-size check (DeiT-S configs, 224 px,
batch 64); ``tiny_setting`` runs the Fashion-MNIST configs in seconds on a
CPU, which is how the test suite runs this module.
"""
import copy
import os
import os.path as osp
import statistics
import tempfile
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import torch
from mmengine.config import Config
from mmengine.optim import AmpOptimWrapper
from mmpretrain.structures import DataSample

from mmsmmix.registry import config_dir
from mmsmmix.utils import load_weights
from .timing import build_model, step_times

#: The checked methods (names of the comparison suites, which give their
#: configs): CutMix, the reference, and the methods whose mixing runs the
#: model or reads attention; ``smmix_bf16`` is SMMix with its motivating
#: pass in bfloat16 (the SMMix config and :data:`BF16_PASS`).
METHODS = ('cutmix', 'smmix', 'smmix_bf16', 'transmix', 'mixpro',
           'rankmixup')
BF16_PASS = {'model.train_cfg.augments.motivating_dtype': 'bfloat16'}


def suite_configs(suite: str) -> Dict[str, str]:
    """method -> config of every checked method, from a comparison suite
    (``smmix_bf16``: SMMix's)."""
    from .comparison import load_suite
    methods = load_suite(suite).methods
    return {m: methods[m.replace('_bf16', '')].config for m in METHODS}


@dataclass
class CheckSetting:
    """What the check builds and how hard it drives it.

    Attributes:
        configs (dict): method -> config path (relative to
            :func:`mmsmmix.registry.config_dir` or absolute); ``'cutmix'``
            is the reference of the speed ratios.
        overrides (dict): method -> ``merge_from_dict`` options.
        image_shape (tuple): (C, H, W) of the random images.
        batch_size (int): Images per step.
        iters (int): Training steps per method.
        rounds (int): Timed round-robin rounds (after one warm-up round).
    """
    configs: Dict[str, str]
    image_shape: tuple
    batch_size: int
    iters: int
    rounds: int
    overrides: Dict[str, dict] = field(default_factory=dict)


def deit_small_setting(batch_size: int = 64,
                       iters: int = 30,
                       rounds: int = 10) -> CheckSetting:
    """The DeiT-S ImageNet configs of the methods at 224 px (the
    ``imagenet_deit-s`` comparison suite)."""
    return CheckSetting(
        configs=suite_configs('imagenet_deit-s'),
        overrides=dict(smmix_bf16=BF16_PASS),
        image_shape=(3, 224, 224),
        batch_size=batch_size,
        iters=iters,
        rounds=rounds)


def tiny_setting() -> CheckSetting:
    """The 4-layer Fashion-MNIST ViT (the ``fashion_mnist`` suite):
    seconds on a CPU."""
    return CheckSetting(
        configs=suite_configs('fashion_mnist'),
        overrides=dict(smmix_bf16=BF16_PASS),
        image_shape=(1, 28, 28),
        batch_size=8,
        iters=3,
        rounds=2)


def random_batch(shape: tuple, batch_size: int, num_classes: int,
                 generator: torch.Generator) -> dict:
    """A collated batch of uint8 images and labels, as a dataloader gives."""
    images = torch.randint(
        0, 256, (batch_size, *shape), generator=generator,
        dtype=torch.uint8)
    labels = torch.randint(0, num_classes, (batch_size, ),
                           generator=generator)
    return dict(
        inputs=list(images),
        data_samples=[DataSample().set_gt_label(int(y)) for y in labels])


def _params(model) -> List[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def _same(a: List[torch.Tensor], b: List[torch.Tensor]) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b))


def _logits(model, data: dict) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        batch = model.data_preprocessor(copy.deepcopy(data), False)
        out = model(batch['inputs'], mode='tensor')
    model.train()
    return out


def _memory(device: torch.device) -> int:
    if device.type != 'cuda':
        return 0
    torch.cuda.synchronize(device)
    return torch.cuda.memory_allocated(device)


@dataclass
class MethodCheck:
    """What one method's check found."""
    method: str
    config: str
    losses: List[float]
    nan_refused: str
    reloaded: bool
    peak_memory_mb: Optional[float] = None
    step_s: List[float] = field(default_factory=list)


def _load_cfg(setting: CheckSetting, method: str) -> Config:
    path = setting.configs[method]
    if not osp.isabs(path):
        path = osp.join(config_dir(), path)
    cfg = Config.fromfile(path)
    cfg.merge_from_dict(setting.overrides.get(method, {}))
    return cfg


def check_method(cfg: Config, method: str, setting: CheckSetting,
                 device: torch.device, amp: bool, workdir: str):
    """Train, refuse a NaN batch and reload one method.

    Returns:
        tuple: (MethodCheck, model, optim wrapper), the latter two kept for
        the timing rounds.

    Raises:
        AssertionError: Naming the method and what failed.
    """
    base_memory = _memory(device)
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
    model, optim = build_model(cfg, device)
    if amp:
        optim = AmpOptimWrapper(optimizer=optim.optimizer)
    num_classes = cfg.model.head.num_classes
    gen = torch.Generator().manual_seed(0)
    batches = [
        random_batch(setting.image_shape, setting.batch_size, num_classes,
                     gen) for _ in range(2)
    ]
    start = _params(model)
    losses = []
    for i in range(setting.iters):
        log_vars = model.train_step(copy.deepcopy(batches[i % 2]), optim)
        loss = float(log_vars['loss'])
        assert torch.isfinite(torch.tensor(loss)), (
            f'{method}: non-finite loss {log_vars} at step {i}')
        losses.append(loss)
    assert not _same(start, _params(model)), (
        f'{method}: {setting.iters} steps left the weights unchanged')
    peak = None
    if device.type == 'cuda':
        peak = (torch.cuda.max_memory_allocated(device) -
                base_memory) / 2**20

    # The guard: a NaN pixel is refused before the backward.
    nan_batch = copy.deepcopy(batches[0])
    nan_batch['inputs'] = [x.float() for x in nan_batch['inputs']]
    nan_batch['inputs'][0][0, 0, 0] = float('nan')
    before = _params(model)
    try:
        model.train_step(nan_batch, optim)
    except FloatingPointError as err:
        refused = str(err).split(';')[0]
    else:
        raise AssertionError(f'{method}: a NaN batch was not refused')
    assert _same(before, _params(model)), (
        f'{method}: the refused NaN step changed the weights')

    # Checkpoint round trip through the safe loader.
    path = osp.join(workdir, f'{method}.pth')
    torch.save(
        dict(
            meta=dict(iter=setting.iters),
            state_dict=model.state_dict(),
            optimizer=optim.state_dict()), path)
    fresh, fresh_optim = build_model(cfg, device)
    if amp:
        fresh_optim = AmpOptimWrapper(optimizer=fresh_optim.optimizer)
    checkpoint = load_weights(fresh, path)  # strict: every key must fit
    fresh_optim.load_state_dict(checkpoint['optimizer'])
    own = model.state_dict()
    assert all(
        torch.equal(v, own[k]) for k, v in fresh.state_dict().items()), (
            f'{method}: the reloaded weights differ from the saved ones')
    reloaded = torch.allclose(
        _logits(model, batches[0]), _logits(fresh, batches[0]),
        rtol=1e-5, atol=1e-5)
    assert reloaded, f'{method}: the reloaded model gives other logits'
    del fresh, fresh_optim, checkpoint
    os.remove(path)
    return MethodCheck(method, cfg.filename, losses, refused, reloaded,
                       peak), model, optim


def run_check(setting: CheckSetting,
              device: str = 'cuda',
              amp: Optional[bool] = None,
              log=print) -> List[MethodCheck]:
    """Check every method of ``setting`` on ``device``, then time them.

    Args:
        setting (CheckSetting): Configs and sizes.
        device (str): ``'cuda'`` (or ``'cuda:N'``) or ``'cpu'``.
        amp (bool, optional): Mixed precision (mmengine's
            ``AmpOptimWrapper``, CUDA only); default on for CUDA.
        log (callable): Where progress lines go.

    Returns:
        list[MethodCheck]: One per method, CutMix first, with the timed
        step seconds filled in.
    """
    device = torch.device(device)
    if amp is None:
        amp = device.type == 'cuda'
    if amp and device.type != 'cuda':
        raise ValueError('AMP here is mmengine\'s AmpOptimWrapper, which '
                         'needs CUDA; run the CPU check without it')
    methods = ['cutmix'] + [m for m in setting.configs if m != 'cutmix']
    if 'cutmix' not in setting.configs:
        raise ValueError("the setting needs a 'cutmix' config: it is the "
                         'reference of the speed ratios')
    checks, models = [], {}
    with tempfile.TemporaryDirectory() as workdir:
        for method in methods:
            cfg = _load_cfg(setting, method)
            if method == 'cutmix':  # the timed batch is CutMix's
                num_classes = cfg.model.head.num_classes
            check, model, optim = check_method(cfg, method, setting, device,
                                               amp, workdir)
            log(f'{method:>10}: {setting.iters} steps, loss '
                f'{check.losses[0]:.4f} -> {check.losses[-1]:.4f}; NaN '
                f'batch refused; checkpoint reloads with equal logits')
            checks.append(check)
            models[method] = (model, optim)
    data = random_batch(setting.image_shape, setting.batch_size,
                        num_classes, torch.Generator().manual_seed(1))
    times = step_times(models, data, device, setting.rounds, warmup=1)
    for check in checks:
        check.step_s = times[check.method]
    return checks


def report(checks: List[MethodCheck], setting: CheckSetting, device: str,
           amp: bool) -> str:
    """A Markdown table: method, images/s, ratio to CutMix, peak memory."""
    base = statistics.fmean(
        next(c for c in checks if c.method == 'cutmix').step_s)
    lines = [
        f'device {device}, AMP {"on" if amp else "off"}, batch '
        f'{setting.batch_size} x {"x".join(map(str, setting.image_shape))}, '
        f'{setting.rounds} timed rounds, torch {torch.__version__}', '',
        '| method | images/s | images/s vs CutMix | peak memory (MiB) | '
        'last loss |', '| :-- | --: | --: | --: | --: |'
    ]
    for c in checks:
        mean = statistics.fmean(c.step_s)
        memory = '-' if c.peak_memory_mb is None else \
            f'{c.peak_memory_mb:.0f}'
        lines.append(f'| {c.method} | {setting.batch_size / mean:.1f} | '
                     f'{base / mean:.2f}x | {memory} | {c.losses[-1]:.4f} |')
    return '\n'.join(lines)
