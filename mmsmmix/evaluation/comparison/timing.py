"""Training-step time of each compared method, and the cost of its mixing
ops, measured with :mod:`mmsmmix.evaluation.timing`."""
import statistics

import torch
from mmengine.config import Config

from ..timing import build_model, mixing_op_seconds, real_batch, step_times
from .plan import cfg_options, config_path


def measure_timing(plan: dict) -> dict:
    """Step time of every planned method and the cost of its mixing ops.

    Args:
        plan (dict): The comparison's plan (methods, config dir, setting,
            device).

    Returns:
        dict: ``step_s`` (method -> per-round seconds; CutMix's always),
        ``mixing_s`` (method -> expected seconds of mixing ops per step:
        each augment's mean weighted by its probability), ``batch_size``,
        ``threads``, ``device``, ``methods``.
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
        switch = getattr(model, 'switch', None)
        probs = (switch.probs if switch is not None else None) or \
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
