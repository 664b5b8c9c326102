"""MMPretrain's Mixup, CutMix and ResizeMix on the protocol: their maths is
MMPretrain's (replayed by hand from the seeds the adapter hands the global
generators), their draws come from a synced stream, the process's global
generators are left as they were, and a checkpoint written before they had
streams still resumes."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from mmpretrain.registry import BATCH_AUGMENTS, MODELS

import mmsmmix  # noqa: F401
from mmsmmix.models.augments import MMPretrainAugment
from mmsmmix.utils import load_local_checkpoint
from tests.helpers import FMNIST_CONFIGS, tiny_vit_cfg


def _adapter(cfg, seed=4):
    return MMPretrainAugment(BATCH_AUGMENTS.build(cfg), seed=seed)


def _batch(size=5):
    generator = torch.Generator().manual_seed(3)
    images = torch.randn(size, 1, 32, 32, generator=generator)
    targets = torch.eye(size, 10)
    return images, targets


def test_mixup_maths_from_the_seeds():
    """lam from numpy's Beta and the partner from torch.randperm, drawn by
    hand after seeding the generators as the adapter says it did."""
    aug = _adapter(dict(type='Mixup', alpha=0.8))
    images, targets = _batch()
    result = aug.mix(images, targets)
    numpy_seed, torch_seed = result.info['seeds']
    np.random.seed(numpy_seed)
    lam = np.random.beta(0.8, 0.8)
    torch.manual_seed(torch_seed)
    index = torch.randperm(5)
    assert torch.allclose(result.inputs,
                          lam * images + (1 - lam) * images[index])
    assert torch.allclose(result.targets,
                          lam * targets + (1 - lam) * targets[index])
    assert aug.name == 'Mixup' and list(aug.random_streams()) == ['random']


@pytest.mark.parametrize('cfg', [
    dict(type='CutMix', alpha=1.0),
    dict(type='ResizeMix', alpha=1.0),
])
def test_cutmix_and_resizemix_are_mmpretrains_own(cfg):
    """The same call of MMPretrain's augment under the same seeds gives the
    same batch; another seed gives another one."""
    aug = _adapter(cfg)
    images, targets = _batch()  # (MMPretrain's CutMix pastes in place)
    result = aug.mix(images.clone(), targets)
    np.random.seed(result.info['seeds'][0])
    torch.manual_seed(result.info['seeds'][1])
    mixed, mixed_targets = BATCH_AUGMENTS.build(cfg)(images.clone(),
                                                     targets)
    assert torch.equal(result.inputs, mixed)
    assert torch.equal(result.targets, mixed_targets)
    assert not torch.equal(result.inputs, images)
    other = _adapter(cfg, seed=5).mix(images.clone(), targets)
    assert not torch.equal(other.inputs, result.inputs)


def test_synced_and_global_generators_untouched():
    images, targets = _batch()
    first = _adapter(dict(type='Mixup', alpha=1.0))
    second = _adapter(dict(type='Mixup', alpha=1.0))
    np.random.seed(0)
    torch.manual_seed(0)
    numpy_before = np.random.get_state()[1].copy()
    torch_before = torch.get_rng_state()
    for _ in range(3):  # two ranks with the same stream draw alike
        a, b = first.mix(images, targets), second.mix(images, targets)
        assert torch.equal(a.inputs, b.inputs)
    assert np.array_equal(np.random.get_state()[1], numpy_before)
    assert torch.equal(torch.get_rng_state(), torch_before)


def test_classifier_wraps_and_names_the_streams():
    model = MODELS.build(
        dict(type='MixImageClassifier',
             backbone=tiny_vit_cfg(out_type='cls_token'),
             head=dict(type='VisionTransformerClsHead', num_classes=10,
                       in_channels=64),
             train_cfg=dict(augments=[
                 dict(type='Mixup', alpha=0.8),
                 dict(type='FMix', alpha=1.0)
             ])))
    assert [a.name for a in model.augments] == ['Mixup', 'FMix']
    assert isinstance(model.augments[0], MMPretrainAugment)
    assert list(model.random_streams()) == [
        'classifier', 'augments.0.random', 'augments.1.random'
    ]
    assert model.optional_streams() == {'augments.0.random'}


def _mixup_cutmix_cfg(work_dir, root, epochs, name):
    cfg = Config.fromfile(
        osp.join(FMNIST_CONFIGS, 'vit-mini-p7_mixup-cutmix_1xb64_fmnist.py'))
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = name  # Runners made within a second differ
    cfg.train_dataloader.dataset.indices = 64
    cfg.train_dataloader.dataset.data_root = root
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    cfg.train_cfg = dict(by_epoch=True, max_epochs=epochs, val_interval=10)
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    cfg.test_dataloader = cfg.test_evaluator = cfg.test_cfg = None
    cfg.log_level = 'WARNING'
    return cfg


@pytest.mark.slow  # three Runner trainings: exact resume
def test_resumes_a_checkpoint_without_the_new_streams(tmp_path, fmnist_root):
    """A checkpoint written before Mixup/CutMix had streams (none saved for
    them) resumes with a warning, and the classifier's stream (which
    augment each batch gets) continues as in the uninterrupted run."""
    Runner.from_cfg(_mixup_cutmix_cfg(tmp_path / 'a', fmnist_root, 1,
                                      'first')).train()
    ckpt = str(tmp_path / 'a' / 'epoch_1.pth')
    checkpoint = load_local_checkpoint(ckpt)
    streams = checkpoint['random_states']['streams']
    assert set(streams) == {'classifier', 'augments.0.random',
                            'augments.1.random'}
    for name in ('augments.0.random', 'augments.1.random'):
        del streams[name]  # as the code before the adapter wrote them
    torch.save(checkpoint, ckpt)

    cfg = _mixup_cutmix_cfg(tmp_path / 'a', fmnist_root, 2, 'resumed')
    cfg.resume, cfg.load_from = True, ckpt
    resumed = Runner.from_cfg(cfg)
    resumed.train()
    (log, ) = glob.glob(osp.join(resumed.log_dir, '*.log'))
    assert "has no random streams ['augments.0.random', " \
        "'augments.1.random']" in open(log).read()

    whole = Runner.from_cfg(
        _mixup_cutmix_cfg(tmp_path / 'b', fmnist_root, 2, 'whole'))
    whole.train()
    state = resumed.model.random_streams()['classifier'].state_dict()
    assert state == whole.model.random_streams()['classifier'].state_dict()
