"""Train one method with one seed and evaluate it, resumably; or evaluate a
run trained elsewhere by ``tools/train.py`` (``--collect``)."""
import argparse
import copy
import json
import os
import os.path as osp
import re
import statistics
import sys
import time
from typing import Tuple

from mmengine.config import Config
from mmengine.runner import Runner

from mmsmmix.evaluation.robustness import parse_corruptions, parse_ratios
from .files import PLAN_FILE, RESULT_FILE, read_json, run_dir, write_json
from .plan import Run, cfg_options, run_config

# Overrides of a run that do not change its weights: a collected run may
# differ in them.
_NOT_COMPARED = ('default_hooks.', 'train_cfg.val_begin')


def _metric(metrics: dict, suffix: str) -> float:
    keys = [k for k in metrics if k.endswith(suffix)]
    if len(keys) != 1:
        raise KeyError(f'expected one metric ending in {suffix!r}, got '
                       f'{sorted(metrics)}')
    return float(metrics[keys[0]])


def _evaluation_cfg(cfg: Config, work_dir: str, setting: dict) -> Config:
    """``cfg`` set up to train in ``work_dir`` (resuming) and to test the
    setting's corruptions and occlusion (if any) on its first
    ``corruption_images`` clean-test images."""
    cfg = copy.deepcopy(cfg)
    cfg.work_dir = work_dir
    cfg.resume = True
    if setting['corruptions'] or setting.get('occlusion'):
        cfg.test_dataloader = copy.deepcopy(cfg.val_dataloader)
        cfg.test_dataloader.dataset.indices = setting['corruption_images']
        cfg.test_evaluator = dict(type='Accuracy', topk=(1, ))
        cfg.test_cfg = _corruption_loop(setting) if setting['corruptions'] \
            else _occlusion_loop(setting)
    return cfg


def _corruption_loop(setting: dict) -> dict:
    return dict(type='CorruptionTestLoop',
                corruptions=parse_corruptions(setting['corruptions']),
                severity=setting['severity'])


def _occlusion_loop(setting: dict) -> dict:
    return dict(type='OcclusionTestLoop',
                ratios=parse_ratios(str(setting['occlusion'])),
                mode='random')


def _evaluate(runner: Runner, setting: dict) -> dict:
    """Clean top-1 and ECE (val loop); corruption top-1 and occlusion top-1
    (means over the corruptions / ratios) with the test loop."""
    clean = runner.val()
    result = dict(
        top1=_metric(clean, 'accuracy/top1'),
        ece=_metric(clean, 'calibration/ece'),
        corruption_top1=None,
        occlusion_top1=None)
    if setting['corruptions']:
        result['corruption_top1'] = float(
            runner.test()['mean/accuracy/top1'])
    if setting.get('occlusion'):
        if setting['corruptions']:
            # A second test loop on the same test data: Runner.test()
            # builds whatever loop config it holds.
            runner._test_loop = _occlusion_loop(setting)
        occluded = runner.test()
        result['occlusion_top1'] = statistics.fmean(
            v for k, v in occluded.items() if k.endswith('/accuracy/top1'))
    return result


def _save(runner: Runner, work_dir: str, result: dict) -> dict:
    """Write ``result.json`` (rank 0 only) once everything is measured."""
    from mmengine.dist import get_world_size, is_main_process
    result['processes'] = get_world_size()
    if is_main_process():
        write_json(osp.join(work_dir, RESULT_FILE), result)
    return result


def train_and_evaluate(cfg: Config, work_dir: str, setting: dict) -> dict:
    """Train ``cfg`` in ``work_dir``, then evaluate the final weights.

    The run resumes from its last checkpoint in ``work_dir`` if it was
    interrupted (exactly: checkpoints carry the random states). The result
    is written to ``work_dir/result.json`` once everything is measured.

    Args:
        cfg (Config): The run's config, overrides applied (and ``launcher``
            set for a run of several processes).
        work_dir (str): Its work dir.
        setting (dict): The comparison setting (corruption options).

    Returns:
        dict: ``top1`` and ``ece`` on the test set, ``corruption_top1`` (mean
        over the corruptions, on the first ``corruption_images`` test
        images; None without corruptions), ``train_s`` (wall time of this
        process's training), ``iters``, ``processes``.
    """
    runner = Runner.from_cfg(_evaluation_cfg(cfg, work_dir, setting))
    start = time.perf_counter()
    runner.train()
    train_s = time.perf_counter() - start
    result = _evaluate(runner, setting)
    return _save(runner, work_dir,
                 dict(result, train_s=train_s, iters=runner.iter))


def run_planned(work_dir: str, method: str, seed: int,
                launcher: str = 'none') -> dict:
    """Train and evaluate one run of the comparison planned in ``work_dir``
    (with ``launcher`` 'pytorch' or 'slurm': this is one of its processes).

    Returns:
        dict: See :func:`train_and_evaluate`.
    """
    plan = read_json(osp.join(work_dir, PLAN_FILE))
    cfg = run_config(plan, method, seed)
    _set_launcher(cfg, launcher)
    return train_and_evaluate(cfg, run_dir(work_dir, method, seed),
                              plan['setting'])


def _set_launcher(cfg: Config, launcher: str) -> None:
    import torch

    from mmsmmix.utils.dist import init_cpu_processes
    cfg.launcher = launcher
    if launcher != 'none' and not torch.cuda.is_available():
        init_cpu_processes(cfg, launcher)


def _lookup(cfg, key: str):
    """``cfg``'s value at the dotted ``key`` (None if absent)."""
    if isinstance(cfg, Config):
        cfg = cfg.to_dict()
    for part in key.split('.'):
        if not isinstance(cfg, dict) or part not in cfg:
            return None
        cfg = cfg[part]
    return cfg


def _final_checkpoint(src: str) -> str:
    """The checkpoint named by ``src/last_checkpoint`` (looked up in
    ``src``: the run may have been trained under another path), else the
    latest ``epoch_N.pth``/``iter_N.pth``."""
    marker = osp.join(src, 'last_checkpoint')
    if osp.isfile(marker):
        with open(marker) as f:
            path = osp.join(src, osp.basename(f.read().strip()))
        if osp.isfile(path):
            return path
    numbered = [(int(m.group(2)), m.group(0)) for m in (
        re.fullmatch(r'(epoch|iter)_(\d+)\.pth', f) for f in os.listdir(src))
        if m]
    if not numbered:
        raise FileNotFoundError(f'--collect {src}: no checkpoint '
                                '(last_checkpoint, epoch_N.pth) in it')
    return osp.join(src, max(numbered)[1])


def identify(plan: dict, src: str) -> Tuple[Run, Config, str]:
    """Which planned method and seed a ``tools/train.py`` work dir holds.

    The method is the one whose config file name equals the config that
    ``tools/train.py`` dumped into ``src``; the seed is its
    ``randomness.seed``. Every override the comparison would have applied
    (data, epochs, the suite's ``cfg_options``) must have the same value.

    Returns:
        tuple: The run, its config (as dumped), its final checkpoint.

    Raises:
        ValueError: Naming the work dir and what does not match.
    """
    if not osp.isdir(src):
        raise ValueError(f'--collect {src}: not a folder')
    names = {osp.basename(plan['configs'][m]): m for m in plan['methods']}
    dumped = sorted(f for f in os.listdir(src) if f.endswith('.py'))
    hits = [f for f in dumped if f in names]
    if len(hits) != 1:
        raise ValueError(
            f'--collect {src}: expected the config dumped by tools/train.py, '
            f"named as one of the compared methods' configs "
            f"({', '.join(sorted(names))}); found {dumped or 'no .py file'}")
    method = names[hits[0]]
    cfg = Config.fromfile(osp.join(src, hits[0]))
    seed = _lookup(cfg, 'randomness.seed')
    if seed is None:
        raise ValueError(f'--collect {src}: its config sets no '
                         'randomness.seed (train with --cfg-options '
                         'randomness.seed=N)')
    expected = run_config(plan, method, seed)
    epochs = expected.train_cfg.max_epochs
    differ = [
        f'{key}={_lookup(cfg, key)!r} (the comparison: '
        f'{_lookup(expected, key)!r})'
        for key in cfg_options(plan['setting'], seed, epochs)
        if not key.startswith(_NOT_COMPARED)
        and _lookup(cfg, key) != _lookup(expected, key)
    ]
    if differ:
        raise ValueError(f'--collect {src}: trained with another setting: '
                         f"{'; '.join(differ)}")
    return Run(method, seed), cfg, _final_checkpoint(src)


def collect(plan: dict, src: str, work_dir: str) -> Tuple[Run, dict]:
    """Evaluate the final weights of a run trained by ``tools/train.py`` in
    ``src`` as the comparison evaluates its own runs, and file the result
    under the comparison's ``work_dir`` as that method's and seed's.

    Raises:
        ValueError: See :func:`identify`; also if the training has not
            reached its last epoch, or the comparison holds another result
            of that method and seed.
    """
    from mmsmmix.utils import load_weights
    run, cfg, checkpoint = identify(plan, src)
    dest = run_dir(work_dir, run.method, run.seed)
    held = read_json(osp.join(dest, RESULT_FILE))
    if held is not None and held.get('collected_from') != osp.abspath(src):
        origin = held.get('collected_from', 'this comparison')
        raise ValueError(f'--collect {src}: {run.name} already has a result '
                         f'in {dest} (from {origin}); collect into another '
                         '--work-dir')
    cfg = _evaluation_cfg(cfg, dest, plan['setting'])
    cfg.resume, cfg.load_from = False, None
    cfg.launcher = 'none'
    runner = Runner.from_cfg(cfg)
    meta = load_weights(runner.model, checkpoint).get('meta', {})
    epochs = cfg.train_cfg.max_epochs
    if meta.get('epoch', epochs) < epochs:
        raise ValueError(f"--collect {src}: {checkpoint} is at epoch "
                         f"{meta['epoch']} of {epochs}: training has not "
                         'finished')
    result = _evaluate(runner, plan['setting'])
    return run, _save(runner, dest, dict(
        result, iters=meta.get('iter'), collected_from=osp.abspath(src),
        checkpoint=osp.abspath(checkpoint)))


def main(argv=None) -> int:
    """Worker process of the comparison: ``python -m
    mmsmmix.benchmarks.comparison.run WORK_DIR METHOD SEED``."""
    parser = argparse.ArgumentParser(description='one comparison run')
    parser.add_argument('work_dir')
    parser.add_argument('method')
    parser.add_argument('seed', type=int)
    parser.add_argument('--threads', type=int, default=0)
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm'])
    args = parser.parse_args(argv)
    import torch

    # ``python -m mmsmmix.benchmarks.comparison.run`` has imported the
    # package (its modules are registered)
    from mmsmmix.utils import finish_distributed
    from .workers import die_with_parent
    die_with_parent()  # also under torchrun / srun: never outlive them
    if args.threads:
        torch.set_num_threads(args.threads)
    result = run_planned(args.work_dir, args.method, args.seed,
                         args.launcher)
    finish_distributed()
    print(json.dumps(result))
    return 0


if __name__ == '__main__':
    sys.exit(main())
