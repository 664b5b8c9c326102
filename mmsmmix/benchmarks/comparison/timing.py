"""Training-step time of each compared method, and the cost of its mixing
ops, measured with :mod:`mmsmmix.benchmarks.timing`."""
import os.path as osp
import statistics
from typing import Optional

import torch

from mmsmmix.datasets import first_training_batch
from ..timing import build_model, mixing_op_seconds, step_times
from .files import TIMING_FILE, read_json, write_json
from .plan import REFERENCE, run_config


def measure_timing(plan: dict) -> dict:
    """Step time of every planned method and the cost of its mixing ops.

    Args:
        plan (dict): The comparison's plan (methods, config dir, setting,
            device).

    Returns:
        dict: ``step_s`` (method -> per-round seconds; CutMix's whenever
        the suite has it),
        ``mixing_s`` (method -> expected seconds of mixing ops per step:
        each augment's mean weighted by its probability), ``rounds`` and
        ``warmup`` (measured and unmeasured rounds: the setting's
        ``timing_rounds`` and ``timing_warmup``; the mixing ops are timed
        ``max(rounds, 3)`` times after ``warmup`` untimed ones),
        ``batch_size``, ``threads``, ``device``, ``methods``.
    """
    device = torch.device(plan['device'])
    setting = plan['setting']
    models, data = {}, None
    # CutMix is the reference of the step-time ratio: timed even when it is
    # not compared.
    for method in list(plan['methods']) + [
            m for m in (REFERENCE, )
            if m in plan['configs'] and m not in plan['methods']]:
        cfg = run_config(plan, method, 0)
        models[method] = build_model(cfg, device)
        if data is None:
            data = first_training_batch(cfg,
                                        cfg.train_dataloader.batch_size)
    rounds, warmup = setting['timing_rounds'], setting['timing_warmup']
    times = step_times(models, data, device, rounds, warmup)
    mixing = {}
    reps = max(rounds, 3)
    for method, (model, _) in models.items():
        augs = getattr(model, 'augments', [])
        switch = getattr(model, 'switch', None)
        probs = (switch.probs if switch is not None else None) or \
            [1 / max(len(augs), 1)] * len(augs)
        for aug in augs:
            for _ in range(warmup):
                mixing_op_seconds(model, aug, data, device)
        mixing[method] = sum(
            p * statistics.fmean(
                mixing_op_seconds(model, aug, data, device)
                for _ in range(reps)) for p, aug in zip(probs, augs))
    return dict(
        methods=list(plan['methods']),
        step_s=times,
        mixing_s=mixing,
        rounds=rounds,
        warmup=warmup,
        batch_size=len(data['inputs']),
        threads=torch.get_num_threads(),
        device=plan['device'])


def timing_of(plan: dict, work_dir: str, threads: int,
              measure: bool = True) -> Optional[dict]:
    """The work dir's step and mixing-op times; measured now (before any
    training, on ``threads`` threads) if missing or lacking a method and
    ``measure`` is set. None if not measured: the setting times nothing
    (``timing_rounds`` 0), or CUDA is planned but absent here (a Slurm
    coordinator)."""
    path = osp.join(work_dir, TIMING_FILE)
    timing = read_json(path)
    if timing is not None and set(plan['methods']) <= set(timing['methods']):
        return timing
    if not measure or not plan['setting']['timing_rounds']:
        return None
    if plan['device'] == 'cuda' and not torch.cuda.is_available():
        print('no CUDA device here: step times not measured', flush=True)
        return None
    setting = plan['setting']
    print(f"timing {len(plan['methods'])} training steps and their mixing "
          f"ops: {setting['timing_warmup']} warm-up + "
          f"{setting['timing_rounds']} measured rounds (before any "
          'training, on a quiet machine) ...', flush=True)
    torch.set_num_threads(threads)
    timing = measure_timing(plan)
    write_json(path, timing)
    return timing
