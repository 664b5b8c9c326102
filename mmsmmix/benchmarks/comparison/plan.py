"""What a mixing comparison trains: the plan of a suite's setting, its
runs, and each run's config overrides."""
import os.path as osp
from typing import List, NamedTuple, Sequence

from .files import read_result, run_dir
from .suite import Suite

# Step times are reported relative to this method's.
REFERENCE = 'cutmix'


class Run(NamedTuple):
    """One training run: a method and a seed."""
    method: str
    seed: int

    @property
    def name(self) -> str:
        return f'{self.method}/seed{self.seed}'


def check_methods(names: Sequence[str], suite: Suite) -> List[str]:
    """The method names, checked against the suite's.

    Raises:
        ValueError: Naming the unknown methods and the suite's.
    """
    names = [n.strip() for n in names if n.strip()]
    unknown = [n for n in names if n not in suite.methods]
    if unknown or not names:
        raise ValueError(f'unknown methods {unknown or names}; suite '
                         f'{suite.name!r} has {", ".join(suite.methods)}')
    if len(set(names)) != len(names):
        raise ValueError(f'methods listed twice: {names}')
    return names


def make_plan(suite: Suite, methods: Sequence[str], setting: dict,
              **extra) -> dict:
    """The JSON plan of a comparison: the suite's names, the methods with
    their labels and configs (CutMix's too if the suite has it: it is the
    reference of the step-time ratio), the setting, and ``extra`` (device,
    machine, date)."""
    listed = list(methods) + [m for m in (REFERENCE, )
                              if m in suite.methods and m not in methods]
    return dict(
        suite=dict(name=suite.name, path=suite.path, dataset=suite.dataset,
                   model=suite.model, highlight=list(suite.highlight)),
        setting=setting,
        methods=list(methods),
        labels={m: suite.methods[m].label for m in listed},
        configs={m: suite.methods[m].config for m in listed},
        **extra)


def cfg_options(setting: dict, seed: int, epochs: int) -> dict:
    """The config overrides of one run of ``setting``.

    The setting's shared ``cfg_options`` first, then what the setting
    decides. Training validates nowhere (``val_begin`` past the end): the
    tool evaluates the final weights itself. Checkpoints every quarter of
    the schedule (the last two kept) let an interrupted run resume exactly,
    however it was interrupted.

    Args:
        setting (dict): See :data:`~.suite.SETTING_KEYS`.
        seed (int): The run's seed.
        epochs (int): The run's epochs (the setting's, or its config's).
    """
    options = dict(setting.get('cfg_options', {}))
    options.update({
        'train_cfg.max_epochs': epochs,
        'train_cfg.val_begin': epochs + 1,
        'randomness.seed': seed,
        'default_hooks.checkpoint.interval': max(1, epochs // 4),
        # mmengine deletes the oldest kept checkpoint before it writes the
        # new one: with one kept, a kill in between leaves none to resume.
        'default_hooks.checkpoint.max_keep_ckpts': 2,
        'default_hooks.logger.interval': 50,
    })
    if setting['train_images']:
        options['train_dataloader.dataset.indices'] = setting['train_images']
    if setting['test_images']:
        options['val_dataloader.dataset.indices'] = setting['test_images']
    return options


def run_config(plan: dict, method: str, seed: int):
    """The mmengine Config of one run: the method's config with
    :func:`cfg_options` applied."""
    from mmengine.config import Config
    cfg = Config.fromfile(plan['configs'][method])
    epochs = plan['setting']['epochs'] or cfg.train_cfg.max_epochs
    cfg.merge_from_dict(cfg_options(plan['setting'], seed, epochs))
    return cfg


def train_commands(plan: dict, runs: Sequence[Run], work_dir: str,
                   train_py: str) -> List[str]:
    """The ``tools/train.py`` command lines that train the unfinished
    ``runs`` as the comparison would, each into ``work_dir/trained/<method>/
    seed<N>`` (to train them with one's own scheduler, then ``--collect``
    them)."""
    import shlex
    lines = []
    for run in runs:
        if read_result(run_dir(work_dir, run.method, run.seed)) is not None:
            continue
        cfg = run_config(plan, run.method, run.seed)
        options = cfg_options(plan['setting'], run.seed,
                              cfg.train_cfg.max_epochs)
        lines.append(shlex.join([
            'python', train_py, plan['configs'][run.method], '--work-dir',
            osp.join(work_dir, 'trained', run.method, f'seed{run.seed}'),
            '--cfg-options', *[f'{k}={v}' for k, v in options.items()]]))
    return lines


def plan_runs(methods: Sequence[str], seeds: Sequence[int]) -> List[Run]:
    """Seed-major order: every method's first seed, then the next, so a
    partial comparison already covers every method."""
    return [Run(m, s) for s in seeds for m in methods]


def dataset_size(cfg, split: str = 'train') -> int:
    """Images in the whole training (or ``'val'``) set of a run's config,
    its ``indices`` ignored."""
    import copy

    from mmpretrain.registry import DATASETS
    dataset = copy.deepcopy(cfg[f'{split}_dataloader'].dataset)
    dataset.pop('indices', None)
    dataset['lazy_init'] = True
    built = DATASETS.build(dataset)
    built.full_init()
    return len(built)


def check_data(plan: dict) -> None:
    """Refuse missing data and ``train_images`` beyond the training set,
    before anything starts (checked on the first method's config).

    Raises:
        ValueError: Naming the missing path (and its ``--cfg-options``
            key) or the training set's size.
    """
    from mmsmmix.utils.data_paths import DataPathError, check_data_paths
    cfg = run_config(plan, plan['methods'][0], 0)
    try:
        check_data_paths(cfg, ('train_dataloader', 'val_dataloader'))
    except DataPathError as err:
        raise ValueError(f'{err} (--cfg-options apply to every run)')
    wanted = plan['setting']['train_images']
    if wanted:
        size = dataset_size(cfg)
        if wanted > size:
            raise ValueError(f'--train-images {wanted}: the training set has '
                             f'{size} images')
