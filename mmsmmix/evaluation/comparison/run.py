"""Train one method with one seed and evaluate it, resumably."""
import argparse
import copy
import json
import os.path as osp
import sys
import time

from mmengine.config import Config
from mmengine.runner import Runner

from ..robustness import parse_corruptions
from .files import PLAN_FILE, RESULT_FILE, read_json, run_dir, write_json
from .plan import cfg_options, config_path


def _metric(metrics: dict, suffix: str) -> float:
    keys = [k for k in metrics if k.endswith(suffix)]
    if len(keys) != 1:
        raise KeyError(f'expected one metric ending in {suffix!r}, got '
                       f'{sorted(metrics)}')
    return float(metrics[keys[0]])


def train_and_evaluate(cfg: Config, work_dir: str, setting: dict) -> dict:
    """Train ``cfg`` in ``work_dir``, then evaluate the final weights.

    The run resumes from its last checkpoint in ``work_dir`` if it was
    interrupted (exactly: checkpoints carry the random states). The result
    is written to ``work_dir/result.json`` once everything is measured.

    Args:
        cfg (Config): The run's config, overrides applied.
        work_dir (str): Its work dir.
        setting (dict): The comparison setting (corruption options).

    Returns:
        dict: ``top1`` and ``ece`` on the test set, ``corruption_top1`` (mean
        over the corruptions, on the first ``corruption_images`` test
        images), ``train_s`` (wall time of this process's training).
    """
    cfg = copy.deepcopy(cfg)
    cfg.work_dir = work_dir
    cfg.resume = True
    cfg.test_dataloader = copy.deepcopy(cfg.val_dataloader)
    cfg.test_dataloader.dataset.indices = setting['corruption_images']
    cfg.test_evaluator = dict(type='Accuracy', topk=(1, ))
    cfg.test_cfg = dict(
        type='CorruptionTestLoop',
        corruptions=parse_corruptions(setting['corruptions']),
        severity=setting['severity'])
    runner = Runner.from_cfg(cfg)
    start = time.perf_counter()
    runner.train()
    train_s = time.perf_counter() - start
    clean = runner.val()
    corrupted = runner.test()
    result = dict(
        top1=_metric(clean, 'accuracy/top1'),
        ece=_metric(clean, 'calibration/ece'),
        corruption_top1=float(corrupted['mean/accuracy/top1']),
        train_s=train_s,
        iters=runner.iter)
    write_json(osp.join(work_dir, RESULT_FILE), result)
    return result


def run_planned(work_dir: str, method: str, seed: int) -> dict:
    """Train and evaluate one run of the comparison planned in ``work_dir``.

    Returns:
        dict: See :func:`train_and_evaluate`.
    """
    plan = read_json(osp.join(work_dir, PLAN_FILE))
    cfg = Config.fromfile(config_path(plan['config_dir'], method))
    cfg.merge_from_dict(cfg_options(plan['setting'], seed))
    return train_and_evaluate(cfg, run_dir(work_dir, method, seed),
                              plan['setting'])


def main(argv=None) -> int:
    """Worker process of the comparison: ``python -m
    mmsmmix.evaluation.comparison.run WORK_DIR METHOD SEED``."""
    parser = argparse.ArgumentParser(description='one comparison run')
    parser.add_argument('work_dir')
    parser.add_argument('method')
    parser.add_argument('seed', type=int)
    parser.add_argument('--threads', type=int, default=0)
    args = parser.parse_args(argv)
    import torch

    import mmsmmix  # noqa: F401  (registers modules)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(json.dumps(run_planned(args.work_dir, args.method, args.seed)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
