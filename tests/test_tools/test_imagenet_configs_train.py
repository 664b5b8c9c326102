"""tools/train.py starts training from the ImageNet configs: two epochs of
two iterations, each validated, of PVT-T and CaiT-XXS-24 SMMix (warm-up
shortened to one epoch) on a tiny folder in
ImageNet's layout (meta/train.txt, meta/val.txt, JPEGs), through the real
Runner in a fresh process."""
import glob
import json
import os.path as osp

import pytest

from tests.helpers import REPO_ROOT, write_tiny_imagenet
from tests.tool_process import run_tool


@pytest.fixture(scope='module')
def tiny_imagenet(tmp_path_factory):
    return write_tiny_imagenet(tmp_path_factory.mktemp('imagenet'))


@pytest.mark.slow
@pytest.mark.parametrize('name', ['pvt-tiny', 'cait-xxs24'])
def test_train_tool_starts_on_imagenet_layout(tiny_imagenet, tmp_path, name):
    config = osp.join(REPO_ROOT, 'configs', 'smmix',
                      f'{name}_smmix_4xb256_in1k.py')
    options = [
        f'{loader}.{key}'
        for loader in ('train_dataloader', 'val_dataloader')
        for key in (f'dataset.data_root={tiny_imagenet}',
                    'batch_size=2', 'num_workers=0',
                    'persistent_workers=False')
    ]
    output = run_tool(
        'train.py', config, '--work-dir', str(tmp_path), '--cfg-options',
        *options, 'train_cfg.max_epochs=2', 'param_scheduler.0.end=1',
        'param_scheduler.1.begin=1', 'default_hooks.logger.interval=1',
        'model.train_cfg.augments.switch_prob=1.0')
    assert 'Epoch(train) [2][2/2]' in output and 'loss_fine' in output
    assert 'Epoch(val) [2][1/1]' in output
    (scalars, ) = glob.glob(str(tmp_path / '*' / 'vis_data' / 'scalars.json'))
    records = [json.loads(line) for line in open(scalars)]
    assert any('accuracy/top1' in r for r in records)
    assert glob.glob(str(tmp_path / 'best_accuracy_top1_epoch_*.pth'))
    assert osp.isfile(tmp_path / 'epoch_2.pth')
