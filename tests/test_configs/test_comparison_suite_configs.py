"""The comparison suites' configs: configs/mixing/cifar100/ (DeiT-S at 224
px on CIFAR-100, one config per method of the comparison) and the DeiT-S
ImageNet configs of the methods that had none (configs/mixing/deit-small_
{nomix,mixup,cutmix,resizemix}_4xb256_in1k.py).

Each CIFAR-100 config must mix exactly as its ImageNet sibling (the same
model dict but for the 100 classes) and trains one step at 224 px on tiny
CIFAR-100 pickles read by MMPretrain's own CIFAR100 class."""
import copy
import glob
import math
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.runner import Runner
from mmpretrain.models.losses import LabelSmoothLoss

from tests.helpers import (REPO_ROOT, TinyCIFAR100, build_config_model,
                           build_dataset)

CONFIGS = osp.join(REPO_ROOT, 'configs')
CIFAR100_SUITE = osp.join(CONFIGS, 'mixing', 'cifar100')
# method key of tools/benchmark/compare_mixing.py -> the DeiT-S ImageNet
# config whose mixing its CIFAR-100 config uses
IMAGENET_SIBLINGS = dict(
    nomix='mixing/deit-small_nomix_4xb256_in1k.py',
    mixup='mixing/deit-small_mixup_4xb256_in1k.py',
    cutmix='mixing/deit-small_cutmix_4xb256_in1k.py',
    mixup_cutmix='smmix/deit-small_mixup-cutmix_4xb256_in1k.py',
    resizemix='mixing/deit-small_resizemix_4xb256_in1k.py',
    fmix='mixing/deit-small_fmix_4xb256_in1k.py',
    transmix='mixing/deit-small_transmix_4xb256_in1k.py',
    mixpro='mixing/deit-small_mixpro_4xb256_in1k.py',
    smmix='smmix/deit-small_smmix_4xb256_in1k.py',
    smmix_dm='mixing/deit-small_smmix-dm_4xb256_in1k.py',
    rankmixup='mixing/deit-small_rankmixup_4xb256_in1k.py',
)
METHODS = list(IMAGENET_SIBLINGS)
TRAIN_LABELS = [0, 99, 5, 42]


def _cifar_name(method):
    return (f"deit-small_{method.replace('_', '-')}"
            '_1xb100_cifar100-224px.py')


def _cifar_cfg(method):
    return Config.fromfile(osp.join(CIFAR100_SUITE, _cifar_name(method)))


def _imagenet_cfg(path):
    return Config.fromfile(osp.join(CONFIGS, path))


def test_suite_has_one_config_per_compared_method():
    assert len(METHODS) == 11
    on_disk = {
        osp.basename(p)
        for p in glob.glob(osp.join(CIFAR100_SUITE, '*.py'))
    }
    assert on_disk == {_cifar_name(m) for m in METHODS}
    with open(osp.join(CIFAR100_SUITE, 'README.md')) as f:
        readme = f.read()
    assert all(_cifar_name(m) in readme for m in METHODS)
    assert '--suite cifar100_deit-s' in readme


@pytest.mark.parametrize('method', METHODS)
def test_cifar100_config_mixes_as_its_imagenet_sibling(method):
    cfg = _cifar_cfg(method)
    imagenet = _imagenet_cfg(IMAGENET_SIBLINGS[method])

    assert cfg.model.head.num_classes == 100
    assert cfg.data_preprocessor.num_classes == 100
    for loader in ('train', 'val', 'test'):
        assert cfg[f'{loader}_dataloader'].dataset.type == 'CIFAR100'
    assert cfg.train_cfg.max_epochs == 200  # OpenMixup's schedule

    # The method: train_cfg (augments, probs) and the head and its loss.
    assert cfg.model.train_cfg.to_dict() == \
        imagenet.model.train_cfg.to_dict()
    assert cfg.model.head.loss.to_dict() == imagenet.model.head.loss.to_dict()
    assert cfg.model.head.type == imagenet.model.head.type
    # ... and nothing else of the model differs but the classes (the
    # baseline states the backbone's default out_type).
    model = cfg.model.to_dict()
    expected = imagenet.model.to_dict()
    expected['head']['num_classes'] = 100
    expected['backbone'].setdefault('out_type', 'cls_token')
    assert model == expected
    assert cfg.get('find_unused_parameters', False) == \
        imagenet.get('find_unused_parameters', False)


@pytest.fixture(scope='module')
def cifar100_root(tmp_path_factory):
    """Tiny python-pickle CIFAR-100 (the official layout): 4 train and 2
    test images."""
    root = tmp_path_factory.mktemp('cifar100')
    folder = root / 'cifar-100-python'
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name, labels in (('train', TRAIN_LABELS), ('test', [3, 7])):
        entry = dict(
            data=rng.integers(0, 256, (len(labels), 3072)).astype(np.uint8),
            fine_labels=labels,
            coarse_labels=[0] * len(labels))
        (folder / name).write_bytes(pickle.dumps(entry))
    return root


def _train_batch(cfg, root):
    """One batch of 2 from the config's train dataloader, on ``root``."""
    dataset = build_dataset(cfg.train_dataloader.dataset, root,
                            type=TinyCIFAR100)
    assert [dataset.get_data_info(i)['gt_label']
            for i in range(len(dataset))] == TRAIN_LABELS
    loader = copy.deepcopy(cfg.train_dataloader.to_dict())
    loader.update(dataset=dataset, batch_size=2, num_workers=0,
                  persistent_workers=False)
    batch = next(iter(Runner.build_dataloader(loader, seed=0)))
    assert [tuple(x.shape) for x in batch['inputs']] == [(3, 224, 224)] * 2
    return batch


@pytest.mark.slow  # a DeiT-S step at 224 px
@pytest.mark.parametrize('method', METHODS)
def test_cifar100_config_trains_one_step(method, cifar100_root):
    cfg = _cifar_cfg(method)
    model = build_config_model(cfg)
    assert model.head.num_classes == 100
    assert model.data_preprocessor.num_classes == 100
    batch = _train_batch(cfg, cifar100_root)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    model.train()
    log_vars = model.train_step(batch, optim_wrapper)
    assert all(math.isfinite(float(v)) for v in log_vars.values())
    changed = {
        n
        for n, p in model.named_parameters()
        if not torch.equal(p.detach(), before[n])
    }
    assert 'backbone.patch_embed.projection.weight' in changed
    assert any(n.startswith('head.') for n in changed)


def _new_imagenet(name):
    return _imagenet_cfg(f'mixing/deit-small_{name}_4xb256_in1k.py')


@pytest.mark.parametrize(
    'name,augments',
    [
        ('nomix', []),
        ('mixup', [('Mixup', dict(alpha=0.8))]),
        ('cutmix', [('CutMix', dict(alpha=1.0))]),
        ('resizemix',
         [('ResizeMix', dict(alpha=1.0, lam_min=0.1, lam_max=0.8))]),
    ])
def test_new_imagenet_configs(name, augments):
    cfg = _new_imagenet(name)
    model = build_config_model(cfg)
    assert type(model).__name__ == 'MixImageClassifier'
    assert [a.name for a in model.augments] == [t for t, _ in augments]
    for aug, (_, attrs) in zip(model.augments, augments):
        for key, value in attrs.items():
            assert getattr(aug.augment, key) == value, (key, value)
    if not augments:
        assert model.switch.pick() is None  # every batch unmixed
    assert isinstance(model.head.loss_module, LabelSmoothLoss)
    assert model.head.loss_module.label_smooth_val == 0.1
    # DeiT's recipe, only the mixing changed.
    base = _imagenet_cfg(
        'smmix/deit-small_mixup-cutmix_4xb256_in1k.py').to_dict()
    new = cfg.to_dict()
    assert set(new['model'].pop('train_cfg')) == {'augments'}
    base['model'].pop('train_cfg')
    assert new == base
