"""The first errors a new user meets end in one line saying what to do:
an official SMMix release given to the tools unconverted, a config whose
dataset folder is missing, a config path that does not exist."""
import argparse
import os.path as osp

import pytest
import timm
import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS

from mmsmmix.utils import CheckpointMismatchError, load_weights
from tests.helpers import REPO_ROOT
from tests.tool_process import SMALL, SMMIX_CONFIG, run_tool_process

CONVERTER = 'tools/model_converters/smmix2mmsmmix.py'


def run(tool, *args, cwd=REPO_ROOT):
    proc = run_tool_process(osp.join(REPO_ROOT, 'tools', tool), *args,
                            cwd=cwd)
    return proc.returncode, proc.stderr


def last_line(stderr):
    return stderr.strip().splitlines()[-1]


def _official_release(path, with_args=True):
    """timm-named DeiT weights as the official main.py saves them (small
    sizes; the layout is what matters)."""
    deit = timm.models.vision_transformer.VisionTransformer(
        img_size=28, patch_size=7, in_chans=1, num_classes=10, embed_dim=64,
        depth=1, num_heads=2)
    release = dict(model=deit.state_dict(), epoch=299)
    if with_args:
        release['args'] = argparse.Namespace(model='deit_tiny_patch16_224')
    torch.save(release, path)
    return str(path)


@pytest.mark.slow
def test_official_release_to_test_py_names_the_converter(
        fmnist_root, tmp_path):
    release = _official_release(tmp_path / 'smmix.pth')
    code, stderr = run('test.py', SMMIX_CONFIG, release, '--work-dir',
                       str(tmp_path / 'w'), '--cfg-options', *SMALL)
    assert code == 1
    line = last_line(stderr)
    assert line == (
        f'tools/test.py: {release} is an official SMMix release '
        f'checkpoint; convert it first: python {CONVERTER} {release} '
        'converted.pth'), line
    assert 'Traceback' not in stderr and 'add_safe_globals' not in stderr


def test_release_without_args_is_named_too(tmp_path):
    """A release holding only ``model`` loads (no Namespace to refuse);
    the strict loader names the converter instead of listing every
    missing key."""
    release = _official_release(tmp_path / 'model_only.pth', False)
    model = MODELS.build(Config.fromfile(SMMIX_CONFIG).model)
    with pytest.raises(CheckpointMismatchError) as err:
        load_weights(model, release)
    assert str(err.value) == (
        f'{release} is an official SMMix release checkpoint; convert it '
        f'first: python {CONVERTER} {release} converted.pth')


@pytest.mark.slow
def test_official_release_to_resume_names_the_converter(
        fmnist_root, tmp_path):
    release = _official_release(tmp_path / 'smmix.pth')
    code, stderr = run('train.py', SMMIX_CONFIG, '--resume', release,
                       '--work-dir', str(tmp_path / 'w'), '--cfg-options',
                       *SMALL)
    assert code == 1
    assert last_line(stderr).startswith(
        f'tools/train.py: {release} is an official SMMix release '
        f'checkpoint; convert it first: python {CONVERTER}')
    assert 'Traceback' not in stderr


@pytest.mark.slow
def test_missing_dataset_is_one_line_naming_the_key(tmp_path):
    """An ImageNet config started where there is no data/imagenet: one
    line, before the Runner starts, resolved against the current
    directory."""
    config = osp.join(REPO_ROOT, 'configs', 'smmix',
                      'deit-tiny_smmix_4xb256_in1k.py')
    code, stderr = run('train.py', config, cwd=tmp_path)
    assert code == 1
    line = last_line(stderr)
    assert line.startswith(
        "tools/train.py: train_dataloader.dataset.data_root = 'data/imagenet'"
        f': {tmp_path}/data/imagenet does not exist, relative to the current '
        f'directory {tmp_path}. '), line
    assert line.endswith('--cfg-options train_dataloader.dataset.data_root=.'
                         '.. val_dataloader.dataset.data_root=...'), line
    assert 'Traceback' not in stderr
    assert not (tmp_path / 'work_dirs').exists()  # nothing was started


@pytest.mark.slow
def test_missing_config_file(tmp_path):
    code, stderr = run('train.py', 'my_nomix.py', cwd=tmp_path)
    assert code == 1
    assert last_line(stderr) == (
        "tools/train.py: config file 'my_nomix.py' not found (looked for "
        f'{tmp_path}/my_nomix.py)')
