"""Transfer configs (configs/transfer/): each builds its model and trains a
step at 224 px, and builds its dataset with MMPretrain's own class from a
tiny folder in that dataset's on-disk format, written here."""
import math
import os.path as osp
import pickle

import cv2
import mat4py
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmpretrain.datasets.categories import FGVCAIRCRAFT_CATEGORIES
from mmpretrain.structures import DataSample

from tests.helpers import (REPO_ROOT, TinyCIFAR100, build_config_model,
                           build_dataset)

TRANSFER = osp.join(REPO_ROOT, 'configs', 'transfer')
CONFIGS = {  # file: classes, dataset type
    'deit-small_smmix_1xb100_cifar100-224px.py': (100, 'CIFAR100'),
    'deit-small_mixup-cutmix_1xb100_cifar100-224px.py': (100, 'CIFAR100'),
    'deit-small_smmix-ft_4xb32_cub-224px.py': (200, 'CUB'),
    'deit-small_smmix-ft_4xb32_stanford-cars-224px.py': (196, 'StanfordCars'),
    'deit-small_smmix-ft_4xb32_fgvc-aircraft-224px.py':
    (100, 'FGVCAircraft'),
}


def _load(name):
    return Config.fromfile(osp.join(TRANSFER, name))


@pytest.mark.slow  # a DeiT-S step at 224 px
@pytest.mark.parametrize('name', list(CONFIGS))
def test_model_builds_and_trains_one_step(name):
    classes, dataset = CONFIGS[name]
    cfg = _load(name)
    assert cfg.train_dataloader.dataset.type == dataset
    assert cfg.test_dataloader.dataset.type == dataset
    model = build_config_model(cfg)
    assert model.head.num_classes == classes
    assert model.data_preprocessor.num_classes == classes
    data = dict(
        inputs=[torch.randint(0, 256, (3, 224, 224), dtype=torch.uint8)
                for _ in range(2)],
        data_samples=[DataSample().set_gt_label(k) for k in (0, classes - 1)])
    model.train()
    log_vars = model.train_step(
        data, OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-4)))
    assert all(math.isfinite(float(v)) for v in log_vars.values())


def test_finetune_starts_from_the_imagenet_backbone_only(tmp_path):
    """The Pretrained init loads backbone.* of an ImageNet SMMix state dict
    (as smmix2mmsmmix.py writes it); the 200-class heads start fresh."""
    imagenet = build_config_model(Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'smmix',
                 'deit-small_smmix_4xb256_in1k.py')))
    torch.save(imagenet.state_dict(), tmp_path / 'in1k.pth')
    cfg = _load('deit-small_smmix-ft_4xb32_cub-224px.py')
    cfg.model.backbone.init_cfg.checkpoint = str(tmp_path / 'in1k.pth')
    model = build_config_model(cfg)
    model.init_weights()
    for key, value in imagenet.backbone.state_dict().items():
        assert torch.equal(model.backbone.state_dict()[key], value), key
    assert model.head.layers.head.weight.shape == (200, 384)
    assert model.head.layers.head.weight.std() > 0  # trunc-normal, fresh


def _jpeg(path, seed):
    img = np.random.default_rng(seed).integers(0, 256, (40, 50, 3))
    assert cv2.imwrite(str(path), img.astype(np.uint8))


def _check_pipeline(dataset):
    sample = dataset[0]
    assert sample['inputs'].shape == (3, 224, 224)


def test_cub_folder(tmp_path):
    (tmp_path / 'images' / '001.Albatross').mkdir(parents=True)
    (tmp_path / 'images' / '200.Wren').mkdir(parents=True)
    names = ['001.Albatross/a.jpg', '200.Wren/b.jpg', '200.Wren/c.jpg']
    for i, name in enumerate(names):
        _jpeg(tmp_path / 'images' / name, i)
    (tmp_path / 'images.txt').write_text(
        ''.join(f'{i + 1} {n}\n' for i, n in enumerate(names)))
    (tmp_path / 'image_class_labels.txt').write_text('1 1\n2 200\n3 200\n')
    (tmp_path / 'train_test_split.txt').write_text('1 1\n2 0\n3 1\n')
    cfg = _load('deit-small_smmix-ft_4xb32_cub-224px.py')
    train = build_dataset(cfg.train_dataloader.dataset, tmp_path)
    test = build_dataset(cfg.test_dataloader.dataset, tmp_path)
    assert [train.get_data_info(i)['gt_label'] for i in range(2)] == [0, 199]
    assert len(test) == 1 and test.get_data_info(0)['gt_label'] == 199
    _check_pipeline(train)
    _check_pipeline(test)


def test_stanford_cars_folder(tmp_path):
    for split in ('train', 'test'):
        (tmp_path / f'cars_{split}').mkdir()
        for i in range(2):
            _jpeg(tmp_path / f'cars_{split}' / f'0000{i}.jpg', i)
    (tmp_path / 'devkit').mkdir()
    annotations = dict(fname=['00000.jpg', '00001.jpg'], **{'class': [1, 196]})
    mat4py.savemat(str(tmp_path / 'devkit' / 'cars_train_annos.mat'),
                   dict(annotations=annotations))
    mat4py.savemat(
        str(tmp_path / 'devkit' / 'cars_test_annos_withlabels.mat'),
        dict(annotations=annotations))
    cfg = _load('deit-small_smmix-ft_4xb32_stanford-cars-224px.py')
    train = build_dataset(cfg.train_dataloader.dataset, tmp_path)
    test = build_dataset(cfg.test_dataloader.dataset, tmp_path)
    assert [train.get_data_info(i)['gt_label'] for i in range(2)] == [0, 195]
    assert test.get_data_info(1)['img_path'].endswith('cars_test/00001.jpg')
    _check_pipeline(train)
    _check_pipeline(test)


def test_fgvc_aircraft_folder(tmp_path):
    (tmp_path / 'data' / 'images').mkdir(parents=True)
    variants = [FGVCAIRCRAFT_CATEGORIES[0], FGVCAIRCRAFT_CATEGORIES[-1]]
    for i in range(2):
        _jpeg(tmp_path / 'data' / 'images' / f'100000{i}.jpg', i)
    for split in ('trainval', 'test'):
        (tmp_path / 'data' / f'images_variant_{split}.txt').write_text(
            ''.join(f'100000{i} {v}\n' for i, v in enumerate(variants)))
    cfg = _load('deit-small_smmix-ft_4xb32_fgvc-aircraft-224px.py')
    train = build_dataset(cfg.train_dataloader.dataset, tmp_path)
    assert [train.get_data_info(i)['gt_label'] for i in range(2)] == [0, 99]
    _check_pipeline(train)
    _check_pipeline(build_dataset(cfg.test_dataloader.dataset, tmp_path))


@pytest.mark.parametrize('split', ['train', 'test'])
def test_cifar100_folder(tmp_path, split):
    folder = tmp_path / 'cifar-100-python'
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in ('train', 'test'):
        entry = dict(
            data=rng.integers(0, 256, (3, 3072)).astype(np.uint8),
            fine_labels=[5, 0, 99], coarse_labels=[0, 0, 0])
        (folder / name).write_bytes(pickle.dumps(entry))
    cfg = _load('deit-small_smmix_1xb100_cifar100-224px.py')
    loader = cfg.train_dataloader if split == 'train' else \
        cfg.test_dataloader
    assert (loader.dataset.split, loader.dataset.download) == (split, False)
    dataset = build_dataset(loader.dataset, tmp_path, type=TinyCIFAR100)
    assert [dataset.get_data_info(i)['gt_label'] for i in range(3)] == \
        [5, 0, 99]
    _check_pipeline(dataset)
