"""End to end: tools/train.py, tools/test.py and --resume on real
Fashion-MNIST.

Each tool runs in its own process through the real mmengine Runner, on a
small slice of the real data.
"""
import os.path as osp
import re

import pytest
import torch

from mmsmmix.utils import load_local_checkpoint
from tests.tool_process import (ITERS_PER_EPOCH, SMALL, SMMIX_CONFIG, run_tool,
                                run_tool_failing, scalars)

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def trained(fmnist_root, tmp_path_factory):
    """Two epochs of SMMix training, checkpoint every epoch."""
    work_dir = str(tmp_path_factory.mktemp('smmix'))
    output = run_tool('train.py', SMMIX_CONFIG, '--work-dir', work_dir,
                      '--cfg-options', 'train_cfg.max_epochs=2',
                      'train_cfg.val_interval=1', *SMALL)
    return work_dir, output


def test_train_logs_three_named_losses(trained):
    work_dir, output = trained
    records = [r for r in scalars(work_dir) if 'loss' in r]
    assert len(records) == 2 * ITERS_PER_EPOCH // 2
    assert all(torch.isfinite(torch.tensor(r['loss'])) for r in records)
    # Every logged window mixes SMMix and Mixup batches with p=0.5 in 2-step
    # windows; over 10 windows SMMix losses must show up.
    assert any('loss_fine' in r and 'loss_con' in r for r in records)
    assert all('loss_cls' in r for r in records)
    assert 'eta:' in output and 'loss_fine' in output
    assert osp.isfile(osp.join(work_dir, 'epoch_2.pth'))


@pytest.mark.parametrize('epoch', [1, 2])
def test_test_tool_reproduces_validation_accuracy(trained, epoch):
    """tools/test.py on epoch_N.pth gives the Runner's validation top-1 of
    epoch N (the two epochs differ, so the right weights were loaded)."""
    work_dir, _ = trained
    val = [r for r in scalars(work_dir) if 'accuracy/top1' in r]
    assert len(val) == 2
    output = run_tool('test.py', SMMIX_CONFIG,
                      osp.join(work_dir, f'epoch_{epoch}.pth'), '--work-dir',
                      osp.join(work_dir, f'test{epoch}'), '--cfg-options',
                      *SMALL)
    top1 = float(re.findall(r'accuracy/top1: ([0-9.]+)', output)[-1])
    assert top1 == pytest.approx(val[epoch - 1]['accuracy/top1'])


def test_resume_continues_iterations_and_optimizer(trained, tmp_path):
    work_dir, _ = trained
    output = run_tool('train.py', SMMIX_CONFIG, '--work-dir', str(tmp_path),
                      '--resume', osp.join(work_dir, 'epoch_1.pth'),
                      '--cfg-options', 'train_cfg.max_epochs=2',
                      'train_cfg.val_interval=2', *SMALL)
    assert f'resumed epoch: 1, iter: {ITERS_PER_EPOCH}' in output
    assert 'Epoch(train) [1]' not in output
    resumed = load_local_checkpoint(str(tmp_path / 'epoch_2.pth'))
    assert resumed['meta']['iter'] == 2 * ITERS_PER_EPOCH
    # AdamW's per-parameter step count continues from the checkpoint's.
    steps = {
        float(s['step'])
        for s in resumed['optimizer']['state'].values()
    }
    first = load_local_checkpoint(osp.join(work_dir, 'epoch_1.pth'))
    first_steps = {
        float(s['step'])
        for s in first['optimizer']['state'].values()
    }
    assert max(steps) == 2 * ITERS_PER_EPOCH
    assert max(first_steps) == ITERS_PER_EPOCH


@pytest.fixture(scope='module')
def five_class_checkpoint(trained, tmp_path_factory):
    """epoch_1.pth of the trained run, its class head cut to 5 classes, as a
    5-class run of the same config would save it."""
    work_dir, _ = trained
    checkpoint = load_local_checkpoint(osp.join(work_dir, 'epoch_1.pth'))
    state = checkpoint['state_dict']
    for name in ('layers.head', 'token_head'):
        for kind in ('weight', 'bias'):
            key = f'head.{name}.{kind}'
            state[key] = state[key][:5].clone()
    path = str(tmp_path_factory.mktemp('five') / 'five_classes.pth')
    torch.save(checkpoint, path)
    return path


def test_test_tool_refuses_checkpoint_of_other_class_count(
        five_class_checkpoint, tmp_path):
    output = run_tool_failing('test.py', SMMIX_CONFIG, five_class_checkpoint,
                              '--work-dir', str(tmp_path), '--cfg-options',
                              *SMALL)
    assert "does not fit the config's model: 4 mis-shaped " \
        '(head.layers.head.weight: checkpoint [5, 64] vs model [10, 64]' \
        in output
    assert '--allow-partial' in output
    assert 'accuracy/top1' not in output
    # Asked for explicitly, a partial load evaluates and says what it left.
    output = run_tool('test.py', SMMIX_CONFIG, five_class_checkpoint,
                      '--allow-partial', '--work-dir', str(tmp_path / 'p'),
                      '--cfg-options', *SMALL)
    assert 'partial load:' in output and 'accuracy/top1' in output


def test_resume_refuses_checkpoint_of_other_class_count(
        five_class_checkpoint, tmp_path):
    output = run_tool_failing('train.py', SMMIX_CONFIG, '--work-dir',
                              str(tmp_path), '--resume',
                              five_class_checkpoint, '--cfg-options',
                              'train_cfg.max_epochs=2', *SMALL)
    assert 'the checkpoint being resumed does not fit' in output
    assert 'Epoch(train)' not in output


def test_test_tool_names_a_missing_checkpoint(tmp_path):
    missing = tmp_path / 'nowhere.pth'
    output = run_tool_failing('test.py', SMMIX_CONFIG, str(missing),
                              '--work-dir', str(tmp_path), '--cfg-options',
                              *SMALL)
    assert f'tools/test.py: checkpoint {missing} not found (looked for ' \
        f'{missing})' in output
    assert 'Traceback' not in output


@pytest.mark.parametrize('content', [b'', b'not a checkpoint\n'])
def test_tools_refuse_files_that_are_no_checkpoint(tmp_path, content):
    path = tmp_path / 'bad.pth'
    path.write_bytes(content)
    expected = 'is empty (0 bytes)' if not content else \
        'is not a PyTorch checkpoint'
    output = run_tool_failing('test.py', SMMIX_CONFIG, str(path),
                              '--work-dir', str(tmp_path), '--cfg-options',
                              *SMALL)
    assert f'{path} {expected}' in output
    output = run_tool_failing('visualize_smmix.py', SMMIX_CONFIG,
                              '--checkpoint', str(path), '--out',
                              str(tmp_path / 'x.png'))
    assert f'{path} {expected}' in output
