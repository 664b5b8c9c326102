"""``dry_run``: one training step of a config through the real Runner (the
engine of ``tools/train.py --dry-run``), on real Fashion-MNIST and on a
tiny ImageNet-layout folder at 224 px, checked against counts made here:
parameters of a separately built model, dataset sizes from the files,
iterations per epoch by ceil(size / batch); nothing saved, the config
untouched, the temporary work dir removed."""
import glob
import gzip
import math
import os.path as osp
import struct
import tempfile

import pytest
from mmengine.config import Config

from mmsmmix.apis import DryRun, dry_run
from mmsmmix.utils import CheckpointFileError
from tests.helpers import (FMNIST_CONFIGS, build_config_model,
                           load_smmix_config, write_tiny_imagenet)

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
#: What SMMixClsHead logs in an SMMix batch, and their sum.
SMMIX_LOSSES = {'loss', 'loss_cls', 'loss_fine', 'loss_con'}


def idx_items(path: str) -> int:
    """Items of a gzipped IDX file, from its header (magic number, then
    the item count, big-endian)."""
    with gzip.open(path, 'rb') as f:
        return struct.unpack('>I', f.read(8)[4:])[0]


def param_counts(cfg: Config) -> tuple:
    """(trainable, total) parameter elements of the config's model, built
    here on its own."""
    params = list(build_config_model(cfg).parameters())
    return (sum(p.numel() for p in params if p.requires_grad),
            sum(p.numel() for p in params))


def saved_files(work_dir) -> list:
    """Everything under ``work_dir`` (which may not exist)."""
    return glob.glob(osp.join(str(work_dir), '**', '*'), recursive=True)


def dry_run_in(cfg: Config, tmp_path, monkeypatch) -> DryRun:
    """``dry_run(cfg)`` with tempfile's folder in ``tmp_path/tmp``;
    checks that the config is unchanged, and that nothing stays in that
    folder or is written in the config's (empty) work dir."""
    temp = tmp_path / 'tmp'
    temp.mkdir(parents=True)
    monkeypatch.setattr(tempfile, 'tempdir', str(temp))
    before = cfg.to_dict()
    result = dry_run(cfg)
    assert cfg.to_dict() == before
    work_dir = cfg.work_dir
    assert not glob.glob(osp.join(work_dir, '**', '*.pth'), recursive=True)
    assert not glob.glob(
        osp.join(work_dir, '**', 'last_checkpoint'), recursive=True)
    assert saved_files(work_dir) == []
    assert list(temp.iterdir()) == []  # the Runner's work dir is removed
    return result


def check_summary(result: DryRun, *expected: str) -> str:
    text = result.summary()
    for part in expected:
        assert part in text, (part, text)
    for name, value in result.loss.items():
        assert f'{name} {value:.4g}' in text
    assert len(text.splitlines()) <= 10
    assert 'data_root' not in text and 'pipeline' not in text  # no config
    return text


def check_step(result: DryRun, names: set) -> None:
    assert set(result.loss) == names
    assert all(math.isfinite(v) for v in result.loss.values())
    terms = [v for k, v in result.loss.items() if k != 'loss']
    if terms:  # the total is their sum
        assert math.isclose(result.loss['loss'], sum(terms), rel_tol=1e-5)
    assert result.step_seconds > 0 and math.isfinite(result.step_seconds)


def fmnist_config(name: str, fmnist_root: str, work_dir) -> Config:
    cfg = Config.fromfile(osp.join(FMNIST_CONFIGS, name))
    cfg.merge_from_dict(
        {f'{loader}.dataset.data_root': fmnist_root
         for loader in LOADERS})
    cfg.work_dir = str(work_dir)
    cfg.log_level = 'WARNING'
    return cfg


def test_dry_run_fashion_mnist_smmix(fmnist_root, tmp_path, monkeypatch):
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    cfg = fmnist_config('vit-mini-p7_smmix_1xb64_fmnist.py', fmnist_root,
                        work_dir)
    cfg.merge_from_dict({
        # The SMMix branch (its three losses) in the one step.
        'model.train_cfg.augments.switch_prob': 1.0,
        # Patch embedding and first block frozen: trainable < total.
        'model.backbone.frozen_stages': 1,
        # A test dataset of its own (the config's is the val one's).
        'test_dataloader.dataset.indices': 500,
        # A checkpoint after every iteration, into the work dir: what the
        # dry run must not write.
        'default_hooks.checkpoint': dict(
            by_epoch=False, interval=1, out_dir=str(work_dir)),
    })
    result = dry_run_in(cfg, tmp_path, monkeypatch)

    assert result.methods == ('SMMix', )
    assert result.backbone == 'VisionTransformer'
    assert result.token_grid == (28 // 7, 28 // 7)
    trainable, total = param_counts(cfg)
    assert trainable < total
    assert tuple(result.num_params) == (trainable, total)
    train = idx_items(osp.join(fmnist_root, 'train-images-idx3-ubyte.gz'))
    test = idx_items(osp.join(fmnist_root, 't10k-images-idx3-ubyte.gz'))
    assert (train, test) == (60000, 10000)
    assert result.dataset_sizes == dict(train=train, val=test, test=500)
    assert (result.batch_per_process, result.world_size,
            result.batch_total) == (64, 1, 64)
    assert result.iters_per_epoch == math.ceil(train / 64) == 938
    check_step(result, SMMIX_LOSSES)
    check_summary(result, 'SMMix', 'VisionTransformer', 'token grid 4x4',
                  f'{trainable:,} trainable of {total:,}', 'train 60,000',
                  'val 10,000', 'test 500', '64 per process x 1 process '
                  '= 64', '938 iterations per epoch')


def test_dry_run_mmpretrain_batch_augments(fmnist_root, tmp_path,
                                           monkeypatch):
    """A plain ImageClassifier: MMPretrain's Mixup and CutMix in the data
    preprocessor are the methods; without them, 'none'."""
    cfg = fmnist_config('vit-mini-p7_nomix_1xb64_fmnist.py', fmnist_root,
                        tmp_path / 'work')
    cfg.merge_from_dict({
        f'{loader}.dataset.indices': 100
        for loader in LOADERS
    })
    plain = dry_run_in(cfg, tmp_path / 'plain', monkeypatch)
    assert plain.methods == ('none', )
    check_step(plain, {'loss'})  # MMPretrain's ClsHead names it 'loss'

    cfg.data_preprocessor.batch_augments = dict(augments=[
        dict(type='Mixup', alpha=0.8),
        dict(type='CutMix', alpha=1.0)
    ])
    mixed = dry_run_in(cfg, tmp_path / 'mixed', monkeypatch)
    assert mixed.methods == ('Mixup', 'CutMix')
    check_step(mixed, {'loss'})
    assert mixed.dataset_sizes == dict(train=100, val=100, test=100)
    assert mixed.iters_per_epoch == math.ceil(100 / 64) == 2
    check_summary(mixed, 'methods:    Mixup, CutMix',
                  'train 100, val 100, test 100')


def test_dry_run_deit_tiny_smmix_224(tmp_path, monkeypatch):
    root = write_tiny_imagenet(
        str(tmp_path / 'imagenet'), counts=(('train', 3), ('val', 2)))
    cfg = load_smmix_config('deit-tiny_smmix_4xb256_in1k.py')
    cfg.merge_from_dict({
        f'{loader}.{key}': value
        for loader in LOADERS
        for key, value in (('dataset.data_root', root), ('batch_size', 2),
                           ('num_workers', 0), ('persistent_workers', False))
    })
    cfg.merge_from_dict({
        'model.train_cfg.augments.switch_prob': 1.0,
        'work_dir': str(tmp_path / 'work'),
        'log_level': 'WARNING'
    })
    result = dry_run_in(cfg, tmp_path, monkeypatch)

    assert result.methods == ('SMMix', )
    assert result.backbone == 'VisionTransformer'
    assert result.token_grid == (224 // 16, 224 // 16)
    trainable, total = param_counts(cfg)
    assert tuple(result.num_params) == (trainable, total)
    train = len(glob.glob(osp.join(root, 'train', '*', '*.JPEG')))
    val = len(glob.glob(osp.join(root, 'val', '*.JPEG')))
    assert result.dataset_sizes == dict(train=train, val=val, test=val)
    assert (result.batch_per_process, result.world_size,
            result.batch_total) == (2, 1, 2)
    assert result.iters_per_epoch == math.ceil(train / 2) == 2
    check_step(result, SMMIX_LOSSES)
    check_summary(result, 'SMMix', 'VisionTransformer (token grid 14x14)',
                  f'{trainable:,} trainable of {total:,}',
                  f'train {train}, val {val}, test {val}',
                  '2 per process x 1 process = 2',
                  '2 iterations per epoch')


def test_dry_run_resumes_what_the_real_run_would(fmnist_root, tmp_path,
                                                 monkeypatch):
    """``resume=True`` without a path: the Runner's own work dir is a
    temporary one, so the dry run reads the latest checkpoint of the
    config's work dir (here a broken file, which is refused as the real
    run would refuse it), and leaves that dir as it was."""
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    checkpoint = work_dir / 'epoch_3.pth'
    checkpoint.write_bytes(b'not a checkpoint')
    (work_dir / 'last_checkpoint').write_text(str(checkpoint))
    cfg = fmnist_config('vit-mini-p7_nomix_1xb64_fmnist.py', fmnist_root,
                        work_dir)
    cfg.merge_from_dict({
        f'{loader}.dataset.indices': 100
        for loader in LOADERS
    })
    cfg.resume = True
    temp = tmp_path / 'tmp'
    temp.mkdir()
    monkeypatch.setattr(tempfile, 'tempdir', str(temp))
    with pytest.raises(CheckpointFileError, match='epoch_3.pth'):
        dry_run(cfg)
    assert sorted(saved_files(work_dir)) == [
        str(checkpoint), str(work_dir / 'last_checkpoint')
    ]
    assert checkpoint.read_bytes() == b'not a checkpoint'
    assert list(temp.iterdir()) == []
    assert cfg.get('load_from') is None
