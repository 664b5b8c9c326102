"""A comparison suite: which methods, which config each trains, the
overrides every run shares, the evaluation, and the names its report uses.

Suites are small mmengine config files (``.py``, ``.yaml`` or ``.json``);
three ship under ``configs/compare_mixing/`` (``fashion_mnist``,
``cifar100_deit-s``, ``imagenet_deit-s``), and a user writes one for their
own data the same way::

    dataset = 'My flowers'                 # the report's names
    model = 'DeiT-S, 224 px'
    methods = dict(                        # method -> config (relative to
        cutmix='my_cutmix.py',             # this file, or a package's:
        mixup='mmsmmix::fashion_mnist/vit-mini-p7_mixup_1xb64_fmnist.py',
        # 'mmpretrain::...' too, as in a _base_); a toolbox method
        smmix=dict(config='my_smmix.py'),  # keeps its label, or
        mine=dict(config='mine.py', label='My mixing'))  # give one
    cfg_options = {'train_dataloader.dataset.data_root': 'data/flowers'}
    settings = dict(default=dict(epochs=100, seeds=3))  # see SETTING_KEYS
    highlight = ['smmix']
"""
import os.path as osp
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

# The toolbox's methods and their display names.
METHODS: 'OrderedDict[str, str]' = OrderedDict(
    nomix='no mixing',
    mixup='Mixup',
    cutmix='CutMix',
    mixup_cutmix='Mixup + CutMix',
    resizemix='ResizeMix',
    fmix='FMix',
    transmix='TransMix',
    mixpro='MixPro',
    smmix='SMMix',
    smmix_dm='SMMix + DM',
    rankmixup='RankMixup',
)

SUITES = ('fashion_mnist', 'fashion_mnist_swin', 'fashion_mnist_pvt-v2',
          'cifar100_deit-s', 'imagenet_deit-s')

# Options a run sets itself from the setting: ``cfg_options`` may not.
SETTING_OWNED = ('train_dataloader.dataset.indices',
                 'val_dataloader.dataset.indices', 'train_cfg.max_epochs',
                 'train_cfg.val_begin', 'randomness.seed')

# A setting's keys and their defaults: None means "as the config says"
# (every training / test image; the config's own epochs).
#   train_images / test_images: the first N images of the training set /
#       of the test set used for clean top-1 and ECE;
#   epochs; seeds: seeds 0..N-1 of every method;
#   corruptions: names or 'all' (None: no corruption evaluation), at
#       ``severity`` on the first ``corruption_images`` test images;
#   occlusion: patch-occlusion ratios, e.g. '0.25,0.5' (None: none), random
#       patches set to the mean, on the same first ``corruption_images``;
#   timing_rounds: round-robin rounds of training steps timed before
#       training (0: no timing); timing_warmup: unmeasured rounds first
#       (None: a tenth of the rounds, at least 1; see :func:`warmup_rounds`).
SETTING_KEYS: Dict[str, object] = dict(
    train_images=None,
    test_images=None,
    epochs=None,
    seeds=3,
    corruptions=None,
    corruption_images=None,
    severity=3,
    occlusion=None,
    timing_rounds=0,
    timing_warmup=None,
)


def warmup_rounds(rounds: int) -> int:
    """The timing warm-up of ``rounds`` measured rounds when the setting
    gives none: a tenth of them, at least 1 (0 without rounds)."""
    return max(1, rounds // 10) if rounds else 0


@dataclass(frozen=True)
class Method:
    """One compared method: its display name and config file."""
    label: str
    config: str


@dataclass(frozen=True)
class Suite:
    """A named comparison (see the module docstring)."""
    name: str
    path: str
    dataset: str
    model: str
    methods: 'OrderedDict[str, Method]'
    settings: Dict[str, dict]
    cfg_options: dict = field(default_factory=dict)
    highlight: Tuple[str, ...] = ()

    def setting(self, name: str, cfg_options: Optional[dict] = None,
                **overrides) -> dict:
        """The named setting with every key of :data:`SETTING_KEYS`, the
        ``overrides`` that are not None, and ``cfg_options``: the suite's,
        updated with the given ones (part of the setting: a comparison that
        changes them is another comparison).

        Raises:
            KeyError: Naming the suite's settings.
            ValueError: If ``cfg_options`` sets a key of
                :data:`SETTING_OWNED`.
        """
        if name not in self.settings:
            raise KeyError(f'suite {self.name!r} has no setting {name!r}; '
                           f'it has {sorted(self.settings)}')
        owned = sorted(set(cfg_options or ()) & set(SETTING_OWNED))
        if owned:
            raise ValueError(f'{owned} are set by the comparison (use '
                             "--seeds, --epochs, --train-images or a suite's "
                             'setting)')
        setting = dict(SETTING_KEYS, **self.settings[name],
                       cfg_options=dict(self.cfg_options, **(cfg_options
                                                             or {})))
        setting.update((k, v) for k, v in overrides.items() if v is not None)
        if setting['timing_warmup'] is None:
            setting['timing_warmup'] = warmup_rounds(setting['timing_rounds'])
        return setting


def _check_robustness(where: str, setting: dict) -> None:
    """Refuse unknown corruptions and bad occlusion ratios, naming them."""
    from mmsmmix.evaluation.robustness import parse_corruptions, parse_ratios
    try:
        if setting.get('corruptions'):
            parse_corruptions(setting['corruptions'])
        if setting.get('occlusion'):
            parse_ratios(str(setting['occlusion']))
    except (KeyError, ValueError) as err:
        raise ValueError(f'{where}: {err}') from None


def resolve_config(name: str, suite_file: str, what: str) -> str:
    """The file of a method's config: ``name`` relative to the suite's
    file, or a package's config (``mmsmmix::fashion_mnist/x.py``,
    ``mmpretrain::resnet/resnet18_8xb32_in1k.py``) from the installed
    package (:func:`mmsmmix.registry.resolve_config`).

    Raises:
        FileNotFoundError: Naming ``what`` and why (an unknown package, a
            package that is not installed, a missing file).
    """
    if '::' not in name:
        return osp.normpath(osp.join(osp.dirname(suite_file), name))
    from mmsmmix.registry import resolve_config as package_config
    found = package_config(name)
    if not osp.isfile(found):
        raise FileNotFoundError(f'{what} is not found: {name!r} (looked for '
                                f'{found})')
    return osp.normpath(found)


def suite_path(name_or_path: str) -> str:
    """The file of a shipped suite (by name) or a user's suite file."""
    if osp.isfile(name_or_path):
        return osp.abspath(name_or_path)
    if name_or_path in SUITES:
        from mmsmmix.registry import config_dir
        return osp.join(config_dir(), 'compare_mixing', f'{name_or_path}.py')
    raise FileNotFoundError(
        f'no suite {name_or_path!r}: give one of {", ".join(SUITES)} or a '
        'suite file (.py/.yaml/.json)')


def load_suite(name_or_path: str) -> Suite:
    """Read and check a suite.

    Raises:
        FileNotFoundError: For an unknown suite or a missing method config,
            naming it.
        ValueError: For a malformed suite, naming the key and what was
            expected.
    """
    from mmengine.config import Config
    path = suite_path(name_or_path)
    raw = Config.fromfile(path).to_dict()
    where = f'suite {path}'
    for key in ('dataset', 'model', 'methods', 'settings'):
        if key not in raw:
            raise ValueError(f'{where}: missing key {key!r} (needed: '
                             'dataset, model, methods, settings)')
    methods = OrderedDict()
    for method, entry in raw['methods'].items():
        if isinstance(entry, str):
            entry = dict(config=entry)
        if not isinstance(entry, dict) or 'config' not in entry:
            raise ValueError(f'{where}: methods.{method} must be a config '
                             "path or dict(config=..., label=...)")
        label = entry.get('label', METHODS.get(method))
        if label is None:
            raise ValueError(f'{where}: methods.{method} is not a toolbox '
                             f'method ({", ".join(METHODS)}): give it a '
                             'label')
        config = resolve_config(entry['config'], path, f'{where}: the '
                                f'config of method {method!r}')
        if not osp.isfile(config):
            raise FileNotFoundError(f'{where}: the config of method '
                                    f'{method!r} is not a file: {config}')
        methods[method] = Method(label, config)
    if not methods:
        raise ValueError(f'{where}: methods is empty')
    settings = raw['settings']
    if not isinstance(settings, dict) or 'default' not in settings:
        raise ValueError(f"{where}: settings needs a 'default' setting")
    for name, setting in settings.items():
        unknown = sorted(set(setting) - set(SETTING_KEYS))
        if unknown:
            raise ValueError(f'{where}: settings.{name} has unknown keys '
                             f'{unknown}; known: {", ".join(SETTING_KEYS)}')
        _check_robustness(f'{where}: settings.{name}', setting)
    highlight = tuple(raw.get('highlight', ()))
    stray = [m for m in highlight if m not in methods]
    if stray:
        raise ValueError(f'{where}: highlight names methods not in the '
                         f'suite: {stray}')
    name = osp.splitext(osp.basename(path))[0]
    return Suite(name, path, str(raw['dataset']), str(raw['model']), methods,
                 settings, dict(raw.get('cfg_options', {})), highlight)
