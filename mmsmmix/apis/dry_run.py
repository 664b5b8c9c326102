"""``tools/train.py CONFIG --dry-run``: one training step of a config.

Before a long job is queued, :func:`dry_run` builds what the job would
build, through mmengine's ``Runner`` as ``tools/train.py`` builds it
(``Runner.from_cfg``, then ``Runner.train()``: the optim wrapper, the
parameter schedulers, the validation loop, the hooks' ``before_run``, the
weights' initialisation, ``load_from`` / resume and ``compile``), reads one
batch and runs one ``train_step`` of the configured method with the real
optim wrapper (AMP or bfloat16 wrappers, the non-finite guard, SMMix's clean
pass all run), then returns a :class:`DryRun` whose ``summary()`` says what
a real run would train.

Nothing is saved: the checkpoint hooks are taken out of the config, the
Runner works in a temporary work dir (its log, config dump and local
visualizer data) that is removed afterwards, so the config's ``work_dir``
is never created or written, and no ``*.pth`` or ``last_checkpoint`` can be
mistaken for a run's. The visualizer keeps only its local backend (a dry
run starts no TensorBoard or WandB run) and the logger hook uploads nothing
(``out_dir`` unset). A config that resumes without a checkpoint path reads
(only) the latest checkpoint of its own work dir, as the real run would.

One process only: the world size is mmengine's (1 outside a distributed
launch); a distributed dry run is out of scope.
"""
import copy
import functools
import logging
import os.path as osp
import tempfile
import time
from dataclasses import dataclass
from typing import Dict, NamedTuple, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.dist import get_world_size
from mmengine.logging import MMLogger
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner, find_latest_checkpoint

from mmsmmix.models.augments.base import MixAugment
from mmsmmix.models.probes import build_attention_probe

#: Hook types that write checkpoints: left out of a dry run.
CHECKPOINT_HOOKS = ('CheckpointHook', )
#: The dataloaders whose datasets a dry run counts, in this order.
SPLITS = ('train', 'val', 'test')


class ParamCount(NamedTuple):
    """Parameters of the model (elements, not tensors)."""
    trainable: int
    total: int


@dataclass
class DryRun:
    """What :func:`dry_run` built and what its one step did.

    Attributes:
        methods (tuple[str]): The augments of ``model.train_cfg.augments``
            (a ``MixImageClassifier``) or of
            ``data_preprocessor.batch_augments``, by name (MMPretrain's
            wrapped Mixup/CutMix/ResizeMix by their own names);
            ``('none', )`` for a model that mixes nothing.
        backbone (str): The backbone's type name.
        token_grid (tuple[int, int] | None): The patch grid (h, w) the
            backbone's attention probe reads at the configured input size;
            None for a backbone without a probe or without a fixed size.
        num_params (ParamCount): Trainable and total parameters.
        dataset_sizes (dict[str, int]): Samples of the train, val and test
            datasets the config has.
        batch_per_process (int): The train dataloader's batch size.
        world_size (int): Training processes.
        batch_total (int): Images per optimizer step over all processes.
        iters_per_epoch (int): ``len(train_dataloader)``, as the Runner's
            train loop counts an epoch.
        loss (dict[str, float]): The step's log variables: the total
            ``loss`` first, then the named losses (SMMix's head:
            ``loss_cls``, and in SMMix batches ``loss_fine`` and
            ``loss_con``) and whatever else the model logs.
        step_seconds (float): Seconds of that one ``train_step`` (the
            first step, with its warm-up: later steps are usually faster).
    """
    methods: Tuple[str, ...]
    backbone: str
    token_grid: Optional[Tuple[int, int]]
    num_params: ParamCount
    dataset_sizes: Dict[str, int]
    batch_per_process: int
    world_size: int
    batch_total: int
    iters_per_epoch: int
    loss: Dict[str, float]
    step_seconds: float

    def summary(self) -> str:
        """A short block of lines: what a real run of the config trains."""
        grid = ('no attention probe' if self.token_grid is None else
                'token grid {}x{}'.format(*self.token_grid))
        processes = 'process' if self.world_size == 1 else 'processes'
        sizes = ', '.join(f'{split} {size:,}'
                          for split, size in self.dataset_sizes.items())
        losses = ', '.join(f'{name} {value:.4g}'
                           for name, value in self.loss.items())
        return '\n'.join([
            'Dry run: one training step, no checkpoint written',
            f'  methods:    {", ".join(self.methods)}',
            f'  backbone:   {self.backbone} ({grid})',
            f'  parameters: {self.num_params.trainable:,} trainable of '
            f'{self.num_params.total:,}',
            f'  datasets:   {sizes}',
            f'  batch:      {self.batch_per_process} per process x '
            f'{self.world_size} {processes} = {self.batch_total}; '
            f'{self.iters_per_epoch:,} iterations per epoch',
            f'  losses:     {losses}',
            f'  step:       {self.step_seconds:.3g} s (the first one, '
            'with its warm-up)',
        ])


def dry_run(cfg: Config) -> DryRun:
    """Build the config's Runner, read one batch and run one training step,
    writing no checkpoint and nothing in the config's work dir.

    Args:
        cfg (Config): The config as ``tools/train.py`` would train it (its
            options applied); it is not modified.

    Returns:
        DryRun: What was built and what the step did.

    Raises:
        Whatever the real run would raise in its first step (a missing
        dataset, a refused token grid, ``FloatingPointError`` from the
        non-finite guard ...).
    """
    with tempfile.TemporaryDirectory(prefix='mmsmmix_dry_run_') as work_dir:
        try:
            runner = Runner.from_cfg(dry_run_config(cfg, work_dir))
            return _run(runner)
        finally:
            _close_log_files(work_dir)


def dry_run_config(cfg: Config, work_dir: str) -> Config:
    """A copy of ``cfg`` that saves nothing: the Runner works in
    ``work_dir``, no checkpoint hook, no visualizer backend but the local
    one, no log upload, the Runner's log from warnings up (its config dump
    and per-parameter lines would bury the summary); resuming without a
    path reads the latest checkpoint of the config's own work dir."""
    cfg = copy.deepcopy(cfg)
    cfg.log_level = 'WARNING'

    own_work_dir = cfg.get('work_dir')
    if cfg.get('resume') and not cfg.get('load_from') and own_work_dir:
        # What the real run would resume from (None: it starts afresh).
        cfg.load_from = find_latest_checkpoint(own_work_dir)
    cfg.work_dir = work_dir
    default_hooks = cfg.get('default_hooks') or {}
    for name, hook in default_hooks.items():
        if hook is not None and hook.get('type') in CHECKPOINT_HOOKS:
            default_hooks[name] = None
        elif hook is not None and hook.get('type') == 'LoggerHook':
            hook['out_dir'] = None
    if cfg.get('custom_hooks'):
        cfg.custom_hooks = [
            hook for hook in cfg.custom_hooks
            if hook.get('type') not in CHECKPOINT_HOOKS
        ]
    if cfg.get('visualizer') and cfg.visualizer.get('vis_backends'):
        cfg.visualizer.vis_backends = [dict(type='LocalVisBackend')]
    return cfg


def _run(runner: Runner) -> DryRun:
    """``runner.train()`` with its train loop cut to one step."""
    loop = runner.train_loop  # builds the loop and the train dataloader
    step = {}
    # The loop's own run() would train the schedule; Runner.train() does
    # everything before it as a real run does, then runs this one step.
    loop.run = functools.partial(_one_step, runner, loop, step)
    try:
        runner.train()
    finally:
        del loop.run
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    backbone = getattr(model, 'backbone', None)
    dataloader = loop.dataloader
    batch = dataloader.batch_size or getattr(dataloader.batch_sampler,
                                             'batch_size', None)
    world_size = get_world_size()
    return DryRun(
        methods=model_methods(model),
        backbone=type(backbone).__name__ if backbone is not None else 'none',
        token_grid=token_grid(backbone),
        num_params=count_params(model),
        dataset_sizes=_dataset_sizes(runner, dataloader),
        batch_per_process=batch,
        world_size=world_size,
        batch_total=batch * world_size,
        iters_per_epoch=len(dataloader),
        loss={
            name: float(torch.as_tensor(value).detach())
            for name, value in step['log_vars'].items()
        },
        step_seconds=step['seconds'])


def _one_step(runner: Runner, loop, step: dict) -> nn.Module:
    """The first iteration of the train loop, with the hooks a real loop
    calls before it and around it (not those of the epoch's end: no
    validation, no checkpoint); fills ``step``."""
    runner.call_hook('before_train')
    runner.call_hook('before_train_epoch')
    runner.model.train()
    # IterBasedTrainLoop reads through its own (infinite) iterator.
    iterator = getattr(loop, 'dataloader_iterator', None)
    if iterator is None:
        iterator = iter(loop.dataloader)
    try:
        data_batch = next(iterator)
    finally:
        _shutdown_workers(iterator)
    runner.call_hook('before_train_iter', batch_idx=0, data_batch=data_batch)
    _synchronize()
    start = time.perf_counter()
    outputs = runner.model.train_step(
        data_batch, optim_wrapper=runner.optim_wrapper)
    _synchronize()
    step['seconds'] = time.perf_counter() - start
    step['log_vars'] = outputs
    runner.call_hook(
        'after_train_iter', batch_idx=0, data_batch=data_batch,
        outputs=outputs)
    return runner.model


def model_methods(model: nn.Module) -> Tuple[str, ...]:
    """The model's augments by name: ``MixImageClassifier``'s, else its
    data preprocessor's ``batch_augments``; ``('none', )`` if none."""
    augments = getattr(model, 'augments', None)
    if augments is None:
        batch_augments = getattr(
            getattr(model, 'data_preprocessor', None), 'batch_augments',
            None)
        augments = getattr(batch_augments, 'augments', None) or []
    names = tuple(
        aug.name if isinstance(aug, MixAugment) else type(aug).__name__
        for aug in augments)
    return names or ('none', )


def token_grid(backbone: Optional[nn.Module]) -> Optional[Tuple[int, int]]:
    """The patch grid the backbone's attention probe reads at the
    configured input size; None without a probe or a fixed size."""
    if backbone is None:
        return None
    try:
        probe = build_attention_probe(backbone)
    except TypeError:  # no readable attention
        return None
    layout = probe.configured_layout()
    return None if layout is None else tuple(layout[0].grid)


def count_params(model: nn.Module) -> ParamCount:
    """Trainable and total parameter elements of ``model``."""
    params = list(model.parameters())
    return ParamCount(
        trainable=sum(p.numel() for p in params if p.requires_grad),
        total=sum(p.numel() for p in params))


def _dataset_sizes(runner: Runner, train_dataloader) -> Dict[str, int]:
    """Samples of each dataset the config has (the train and validation
    datasets as the Runner built them, the test dataset built here unless
    its dataloader is the validation one)."""
    cfg = runner.cfg
    sizes = dict(train=len(train_dataloader.dataset))
    if runner.val_loop is not None:
        sizes['val'] = len(runner.val_loop.dataloader.dataset)
    test_cfg = cfg.get('test_dataloader')
    if test_cfg is not None:
        if 'val' in sizes and test_cfg == cfg.get('val_dataloader'):
            sizes['test'] = sizes['val']
        else:
            test_loader = Runner.build_dataloader(
                copy.deepcopy(test_cfg), seed=runner.seed)
            sizes['test'] = len(test_loader.dataset)
    return {split: sizes[split] for split in SPLITS if split in sizes}


def _shutdown_workers(iterator) -> None:
    """Stop the worker processes (persistent ones too) of a dataloader
    iterator, or of mmengine's infinite iterator around one."""
    inner = getattr(iterator, '_iterator', iterator)
    shutdown = getattr(inner, '_shutdown_workers', None)
    if shutdown is not None:
        shutdown()


def _synchronize() -> None:
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def _close_log_files(work_dir: str) -> None:
    """Close the Runner's log file in ``work_dir`` (before it is removed);
    the logger itself stays, printing to the console."""
    logger = MMLogger.get_current_instance()
    root = osp.join(osp.realpath(work_dir), '')
    for handler in list(logger.handlers):
        if isinstance(handler, logging.FileHandler) and osp.realpath(
                handler.baseFilename).startswith(root):
            logger.removeHandler(handler)
            handler.close()
