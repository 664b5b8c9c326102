"""check_data_paths: missing dataset folders and files are named, with the
config key to set, before any work; paths join as mmengine's BaseDataset
joins them."""
import os

import pytest
from mmengine.config import Config

from mmsmmix.utils import DataPathError, check_data_paths


def _cfg(**loaders):
    return Config(loaders)


def test_existing_paths_pass(tmp_path):
    (tmp_path / 'root' / 'train').mkdir(parents=True)
    (tmp_path / 'root' / 'meta').mkdir()
    (tmp_path / 'root' / 'meta' / 'train.txt').write_text('a.png 0\n')
    cfg = _cfg(train_dataloader=dict(dataset=dict(
        type='CustomDataset', data_root=str(tmp_path / 'root'),
        ann_file='meta/train.txt', data_prefix='train')))
    check_data_paths(cfg, ['train_dataloader'])


def test_missing_root_names_every_key_holding_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    dataset = dict(type='ImageNet', data_root='data/imagenet', split='train')
    cfg = _cfg(train_dataloader=dict(dataset=dataset),
               val_dataloader=dict(dataset=dict(dataset, split='val')),
               test_dataloader=dict(dataset=dict(dataset, split='val')))
    with pytest.raises(DataPathError) as err:
        check_data_paths(cfg, ['train_dataloader', 'val_dataloader'])
    message = str(err.value)
    assert '\n' not in message
    assert message.startswith(
        "train_dataloader.dataset.data_root = 'data/imagenet': "
        f'{tmp_path}/data/imagenet does not exist, relative to the current '
        f'directory {tmp_path}.')
    # The options that fix it: both checked loaders, not the test one.
    assert message.endswith(
        '--cfg-options train_dataloader.dataset.data_root=... '
        'val_dataloader.dataset.data_root=...')
    # Only the given loaders are checked.
    check_data_paths(cfg, ['no_such_loader'])


def test_ann_file_and_prefix_join_under_the_root(tmp_path):
    root = tmp_path / 'cub'
    (root / 'images').mkdir(parents=True)
    cfg = _cfg(test_dataloader=dict(dataset=dict(
        type='CUB', data_root=str(root), ann_file='images.txt',
        data_prefix=dict(img_path='images'))))
    with pytest.raises(DataPathError, match=(
            r"^test_dataloader.dataset.ann_file = 'images.txt': "
            f'{root}/images.txt does not exist. ')):
        check_data_paths(cfg, ['test_dataloader'])
    (root / 'images.txt').write_text('')
    check_data_paths(cfg, ['test_dataloader'])
    # An absolute ann_file is not joined; a missing data_prefix entry is
    # named by its key.
    cfg.test_dataloader.dataset.ann_file = str(root / 'images.txt')
    cfg.test_dataloader.dataset.data_prefix = dict(img_path='pics')
    with pytest.raises(DataPathError,
                       match=r'dataset.data_prefix.img_path = .pics.'):
        check_data_paths(cfg, ['test_dataloader'])


def test_wrapped_datasets_and_remote_paths(tmp_path):
    cfg = _cfg(train_dataloader=dict(dataset=dict(
        type='ConcatDataset', datasets=[
            dict(type='CustomDataset', data_root='s3://bucket/train'),
            dict(type='RepeatDataset', times=2, dataset=dict(
                type='CustomDataset', data_root=str(tmp_path / 'gone'))),
        ])))
    with pytest.raises(DataPathError) as err:
        check_data_paths(cfg, ['train_dataloader'])
    assert str(err.value).startswith(
        'train_dataloader.dataset.datasets.1.dataset.data_root = ')
    # A remote backend is not looked at.
    (tmp_path / 'gone').mkdir()
    check_data_paths(cfg, ['train_dataloader'])


def test_paths_under_a_missing_root_are_not_listed_again(tmp_path):
    cfg = _cfg(train_dataloader=dict(dataset=dict(
        type='CustomDataset', data_root=str(tmp_path / 'none'),
        ann_file='meta/train.txt', data_prefix='train')))
    with pytest.raises(DataPathError) as err:
        check_data_paths(cfg, ['train_dataloader'])
    assert 'more missing' not in str(err.value)
    assert os.path.basename(str(tmp_path / 'none')) in str(err.value)
