"""What a mixing comparison trains: methods, settings and runs."""
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, NamedTuple, Sequence

# name -> (label, config file under configs/fashion_mnist/)
METHODS: 'OrderedDict[str, tuple]' = OrderedDict(
    nomix=('no mixing', 'vit-mini-p7_nomix_1xb64_fmnist.py'),
    mixup=('Mixup', 'vit-mini-p7_mixup_1xb64_fmnist.py'),
    cutmix=('CutMix', 'vit-mini-p7_cutmix_1xb64_fmnist.py'),
    mixup_cutmix=('Mixup + CutMix', 'vit-mini-p7_mixup-cutmix_1xb64_fmnist.py'),
    resizemix=('ResizeMix', 'vit-mini-p7_resizemix_1xb64_fmnist.py'),
    fmix=('FMix', 'vit-mini-p7_fmix_1xb64_fmnist.py'),
    transmix=('TransMix', 'vit-mini-p7_transmix_1xb64_fmnist.py'),
    mixpro=('MixPro', 'vit-mini-p7_mixpro_1xb64_fmnist.py'),
    smmix=('SMMix', 'vit-mini-p7_smmix_1xb64_fmnist.py'),
    smmix_dm=('SMMix + DM', 'vit-mini-p7_smmix-dm_1xb64_fmnist.py'),
    rankmixup=('RankMixup', 'vit-mini-p7_rankmixup_1xb64_fmnist.py'),
)

# Config overrides applied to every method alike (``--cfg-options`` keys).
# 'default': patch 4 (a 7x7 token grid of 4x4-px cells), the first 5,000
# training images, 40 epochs: long enough for Mixup/CutMix to beat no
# mixing (at 30 epochs no mixing still leads, see README).
# 'quick': a smoke test of the whole pipeline in seconds per run.
SETTINGS: Dict[str, dict] = {
    'default':
    dict(
        patch_size=4,
        train_images=5000,
        epochs=40,
        test_images=None,
        corruption_images=500,
        corruptions='all',
        severity=3,
        seeds=3,
        timing_rounds=20,
        timing_warmup=2),
    'quick':
    dict(
        patch_size=4,
        train_images=128,
        epochs=1,
        test_images=200,
        corruption_images=40,
        corruptions='gaussian_noise,contrast',
        severity=3,
        seeds=1,
        timing_rounds=2,
        timing_warmup=1),
}


class Run(NamedTuple):
    """One training run: a method and a seed."""
    method: str
    seed: int

    @property
    def name(self) -> str:
        return f'{self.method}/seed{self.seed}'


def check_methods(names: Sequence[str]) -> List[str]:
    """The method names, checked against :data:`METHODS`.

    Raises:
        ValueError: Naming the unknown methods and the known ones.
    """
    names = [n.strip() for n in names if n.strip()]
    unknown = [n for n in names if n not in METHODS]
    if unknown or not names:
        raise ValueError(f'unknown methods {unknown or names}; choose from '
                         f"{', '.join(METHODS)}")
    if len(set(names)) != len(names):
        raise ValueError(f'methods listed twice: {names}')
    return names


def cfg_options(setting: dict, seed: int) -> dict:
    """The config overrides of one run of ``setting``.

    Training validates nowhere (``val_begin`` past the end): the tool
    evaluates the final weights itself. Checkpoints every quarter of the
    schedule let an interrupted run resume exactly.
    """
    epochs = setting['epochs']
    options = {
        'model.backbone.patch_size': setting['patch_size'],
        'train_dataloader.dataset.indices': setting['train_images'],
        'train_cfg.max_epochs': epochs,
        'train_cfg.val_begin': epochs + 1,
        'randomness.seed': seed,
        'default_hooks.checkpoint.interval': max(1, epochs // 4),
        'default_hooks.checkpoint.max_keep_ckpts': 1,
        'default_hooks.logger.interval': 50,
    }
    if setting['test_images']:
        options['val_dataloader.dataset.indices'] = setting['test_images']
    return options


def plan_runs(methods: Sequence[str], seeds: Sequence[int]) -> List[Run]:
    """Seed-major order: every method's first seed, then the next, so a
    partial comparison already covers every method."""
    return [Run(m, s) for s in seeds for m in methods]


def config_path(config_dir: str, method: str) -> str:
    """The config file of ``method`` in ``config_dir``.

    Raises:
        FileNotFoundError: Naming the missing file.
    """
    path = osp.join(config_dir, METHODS[method][1])
    if not osp.isfile(path):
        raise FileNotFoundError(f'config of method {method!r} not found: '
                                f'{path}')
    return path


def train_set_size(config_file: str) -> int:
    """Images in the config's whole training set (``indices`` ignored)."""
    import copy

    from mmengine.config import Config
    from mmpretrain.registry import DATASETS
    dataset = copy.deepcopy(Config.fromfile(config_file).train_dataloader
                            .dataset)
    dataset.pop('indices', None)
    dataset['lazy_init'] = True
    built = DATASETS.build(dataset)
    built.full_init()
    return len(built)
