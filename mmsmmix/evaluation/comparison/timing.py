"""Training-step time of each method, and the cost of its mixing ops.

Every method's model is built from its config and stepped round-robin on
the same real batch (one step of each per round), so drifting load hits
them alike. The mixing ops of each augment are timed on the same batch with
the model's own forwards (SMMix's clean pass, RankMixup's mixed forward, the
forward TransMix and MixPro read attention from) subtracted: what is left is
what the method adds around a forward (drawing, masks, pasting, relabelling,
ranking).
"""
import contextlib
import copy
import logging
import statistics
import time
from typing import Dict, List

import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.logging import MMLogger
from mmengine.optim import OptimWrapper
from mmpretrain.registry import DATASETS, MODELS

from .plan import cfg_options, config_path


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def build_model(cfg, device: torch.device):
    """A config's seeded, initialised model in training mode and its AdamW.

    As the Runner does, the config's top-level ``data_preprocessor`` fills
    in the model's.
    """
    model_cfg = copy.deepcopy(cfg.model)
    if cfg.get('data_preprocessor'):
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    torch.manual_seed(0)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)  # init_weights logs every parameter
    try:
        model = MODELS.build(model_cfg)
        model.init_weights()
    finally:
        logger.setLevel(level)
    model.to(device).train()
    optim = OptimWrapper(
        torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05))
    return model, optim


def real_batch(dataset_cfg: dict, batch_size: int) -> dict:
    """The first ``batch_size`` samples of a dataset config, collated."""
    dataset = DATASETS.build(copy.deepcopy(dataset_cfg))
    return pseudo_collate([dataset[i] for i in range(batch_size)])


def time_step(model, optim, data: dict, device: torch.device) -> float:
    """Seconds of one ``train_step`` (preprocess, mix, forward, backward,
    update) on a fresh copy of ``data``."""
    data = copy.deepcopy(data)
    _sync(device)
    start = time.perf_counter()
    model.train_step(data, optim)
    _sync(device)
    return time.perf_counter() - start


def step_times(models: Dict[str, tuple], data: dict, device: torch.device,
               rounds: int, warmup: int) -> Dict[str, List[float]]:
    """Round-robin step times of every model (rotating the first one).

    Args:
        models (dict): name -> (model, optim wrapper).
        data (dict): A collated batch.
        device (torch.device): Where the models are.
        rounds (int): Measured rounds.
        warmup (int): Unmeasured steps of each model first.

    Returns:
        dict[str, list[float]]: name -> per-round step seconds.
    """
    names = list(models)
    for _ in range(warmup):
        for name in names:
            time_step(*models[name], data, device)
    times = {name: [] for name in names}
    for rnd in range(rounds):
        shift = rnd % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(time_step(*models[name], data, device))
    return times


@contextlib.contextmanager
def _model_time(model, device: torch.device):
    """Count the seconds spent in the model's own forwards meanwhile.

    Wraps ``extract_feat``, ``clean_forward`` and ``head.forward`` on the
    instance (restored on exit); yields a one-element list holding the sum.
    """
    total = [0.]
    depth = [0]
    originals = {}

    def timed(fn):

        def wrapper(*args, **kwargs):
            depth[0] += 1
            if depth[0] == 1:
                _sync(device)
                start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                depth[0] -= 1
                if depth[0] == 0:
                    _sync(device)
                    total[0] += time.perf_counter() - start

        return wrapper

    targets = [(model, 'extract_feat'), (model.head, 'forward')]
    if hasattr(model, 'clean_forward'):
        targets.append((model, 'clean_forward'))
    for owner, attr in targets:
        originals[(owner, attr)] = vars(owner).get(attr)
        setattr(owner, attr, timed(getattr(owner, attr)))
    try:
        yield total
    finally:
        for (owner, attr), original in originals.items():
            if original is None:
                delattr(owner, attr)
            else:
                setattr(owner, attr, original)


def mixing_op_seconds(model, aug, data: dict, device: torch.device) -> float:
    """Seconds of one application of ``aug``'s mixing ops, forwards
    excluded.

    The augment is called as ``MixImageClassifier.loss`` calls it, then its
    ``relabel`` (after a probed forward of the mixed batch) and its
    ``loss_terms`` (after a forward of the returned batch), if it has them.
    """
    batch = model.data_preprocessor(copy.deepcopy(data), True)
    inputs = batch['inputs']
    score = model._batch_score(inputs, batch['data_samples'])
    with torch.no_grad(), _model_time(model, device) as forwards:
        _sync(device)
        start = time.perf_counter()
        mix_info = None
        if getattr(aug, 'requires_model', False):
            mixed, mixed_score, mix_info = aug(inputs, score, model=model)
        else:
            mixed, mixed_score = aug(inputs, score)
        if getattr(aug, 'requires_mixed_attention', False):
            with model._probe.capture(aug.score) as record:
                logits = model.head(model.extract_feat(mixed))
            aug.relabel(mixed_score, record, logits)
        if hasattr(aug, 'loss_terms'):
            aug.loss_terms(model.head(model.extract_feat(mixed)), mix_info)
        _sync(device)
        elapsed = time.perf_counter() - start
    return elapsed - forwards[0]


def measure_timing(plan: dict) -> dict:
    """Step time of every planned method and the cost of its mixing ops.

    Args:
        plan (dict): The comparison's plan (methods, config dir, setting,
            device).

    Returns:
        dict: ``step_s`` (method -> per-round seconds; CutMix's always),
        ``mixing_s``
        (method -> expected seconds of mixing ops per step: each augment's
        mean weighted by its probability), ``batch_size``, ``threads``,
        ``device``, ``methods``.
    """
    device = torch.device(plan['device'])
    setting = plan['setting']
    models, data = {}, None
    # CutMix is the reference of the step-time ratio: timed even when it is
    # not compared.
    for method in list(plan['methods']) + (
            [] if 'cutmix' in plan['methods'] else ['cutmix']):
        cfg = Config.fromfile(config_path(plan['config_dir'], method))
        cfg.merge_from_dict(cfg_options(setting, 0))
        models[method] = build_model(cfg, device)
        if data is None:
            data = real_batch(cfg.train_dataloader.dataset,
                              cfg.train_dataloader.batch_size)
    times = step_times(models, data, device, setting['timing_rounds'],
                       setting['timing_warmup'])
    mixing = {}
    reps = max(setting['timing_rounds'], 3)
    for method, (model, _) in models.items():
        augs = getattr(model, 'augments', [])
        probs = getattr(model, 'augment_probs', None) or \
            [1 / max(len(augs), 1)] * len(augs)
        mixing[method] = sum(
            p * statistics.fmean(
                mixing_op_seconds(model, aug, data, device)
                for _ in range(reps)) for p, aug in zip(probs, augs))
    return dict(
        methods=list(plan['methods']),
        step_s=times,
        mixing_s=mixing,
        batch_size=len(data['inputs']),
        threads=torch.get_num_threads(),
        device=plan['device'])
