"""What a mixing comparison trains: the plan of a suite's setting, its
runs, and each run's config overrides."""
import argparse
import os.path as osp
from typing import List, NamedTuple, Sequence

from mmsmmix.utils.errors import did_you_mean
from .files import ComparisonError, read_result, run_dir
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
        ComparisonError: Naming the unknown methods, the suite's, and the
            close names ("did you mean 'smmix'?"); or a method listed twice.
    """
    names = [n.strip() for n in names if n.strip()]
    if not names:
        raise ComparisonError(f'no method given; suite {suite.name!r} has '
                              f'{", ".join(suite.methods)}')
    unknown = [n for n in names if n not in suite.methods]
    if unknown:
        hint = did_you_mean(unknown, suite.methods)
        raise ComparisonError(
            f"unknown method{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(map(repr, unknown))}: suite {suite.name!r} has "
            f'{", ".join(suite.methods)}{hint}')
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ComparisonError(f'methods listed twice: {", ".join(twice)}')
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
    :func:`cfg_options` applied, checked first as tools/train.py checks it
    (:func:`mmsmmix.utils.preflight.preflight`: ``ConfigError``)."""
    from mmengine.config import Config

    from mmsmmix.utils.preflight import preflight
    cfg = Config.fromfile(plan['configs'][method])
    epochs = plan['setting']['epochs'] or cfg.train_cfg.max_epochs
    options = cfg_options(plan['setting'], seed, epochs)
    preflight(cfg, options)
    cfg.merge_from_dict(options)
    return cfg


def _dict_action_parser() -> argparse.ArgumentParser:
    from mmengine.config import DictAction  # as tools/train.py parses
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser


def _same(a, b) -> bool:
    """Equal values of the same types (``1``, ``1.0`` and ``True`` are
    three values), lists and tuples element by element."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(map(_same, a, b))
    return a == b


def _flatten(options: dict, prefix: str = '') -> dict:
    """Dict values as dotted keys, as ``Config.merge_from_dict`` merges
    them (a command-line value cannot be a dict)."""
    flat = {}
    for key, value in options.items():
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, f'{prefix}{key}.'))
        else:
            flat[f'{prefix}{key}'] = value
    return flat


def _text(value) -> str:
    """``value`` written for mmengine's ``DictAction``: lists in ``[]``,
    tuples in ``()``, everything else as ``str``."""
    if isinstance(value, (list, tuple)):
        items = ','.join(_text(v) for v in value)
        if isinstance(value, tuple):
            return f"({items}{',' if len(value) == 1 else ''})"
        return f'[{items}]'
    return str(value)


def command_options(options: dict) -> List[str]:
    """``KEY=VALUE`` arguments of ``--cfg-options`` that give back
    ``options`` through mmengine's ``DictAction`` (which splits values on
    commas, reads numbers, booleans and None, and drops spaces): dict
    values as one argument per dotted key, lists and tuples bracketed.
    Shell-quote them (``shlex.join``).

    Raises:
        ComparisonError: Naming a key whose value ``DictAction`` cannot
            give back (a string with a comma, space or bracket, or that
            reads as a number; a dict inside a list; an empty dict): set it
            in the method's config instead.
    """
    parser = _dict_action_parser()
    arguments = []
    for key, value in _flatten(options).items():
        argument = f'{key}={_text(value)}'
        parsed = parser.parse_args(['--cfg-options', argument]).cfg_options
        if '=' in key or not _same(parsed.get(key), value):
            raise ComparisonError(
                f'--print-commands: tools/train.py --cfg-options cannot '
                f'give {key}={value!r} (mmengine reads {argument!r} as '
                f'{parsed.get(key)!r}): set it in the configs instead')
        arguments.append(argument)
    return arguments


def train_commands(plan: dict, runs: Sequence[Run], work_dir: str,
                   train_py: str) -> List[str]:
    """The ``tools/train.py`` command lines that train the unfinished
    ``runs`` as the comparison would, each into ``work_dir/trained/<method>/
    seed<N>`` (to train them with one's own scheduler, then ``--collect``
    them). Each line runs as printed: its ``--cfg-options`` are quoted for
    the shell and written so that ``DictAction`` gives back the run's
    overrides (see :func:`command_options`)."""
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
            '--cfg-options', *command_options(options)]))
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
    """Refuse a config mistake of any method (:func:`run_config`), missing
    data and ``train_images`` beyond the training set, before anything
    starts (the data checked on the first method's config).

    Raises:
        ComparisonError: Naming the missing path (and its
            ``--cfg-options`` key) or the training set's size.
    """
    from mmsmmix.utils.data_paths import DataPathError, check_data_paths
    for method in plan['methods'][1:]:
        run_config(plan, method, 0)
    cfg = run_config(plan, plan['methods'][0], 0)
    try:
        check_data_paths(cfg, ('train_dataloader', 'val_dataloader'))
    except DataPathError as err:
        raise ComparisonError(f'{err} (--cfg-options apply to every '
                              'run)') from err
    wanted = plan['setting']['train_images']
    if wanted:
        size = dataset_size(cfg)
        if wanted > size:
            raise ComparisonError(f'--train-images {wanted}: the training '
                                  f'set has {size} images')
