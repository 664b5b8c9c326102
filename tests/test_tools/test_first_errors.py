"""A user's mistakes, each through the real tool entry point in this
process: exit status 2, the message as the last line with at most a few
lines before it, naming what is wrong (key path, file, argument), the fix,
and the close name where one exists; no traceback (``--debug`` shows it)."""
import argparse
import os.path as osp

import pytest
import timm
import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS

from mmsmmix.utils import CheckpointMismatchError, load_weights
from tests.helpers import REPO_ROOT, load_tool
from tests.tool_process import SMALL, SMMIX_CONFIG

DEIT_CONFIG = osp.join(REPO_ROOT, 'configs', 'smmix',
                       'deit-tiny_smmix_4xb256_in1k.py')


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


def refuse(tool, argv, capsys, monkeypatch, cwd=None):
    """Run ``tools/<tool>``'s main(argv) here; returns the lines it
    printed (stdout, then stderr), expecting exit status 2."""
    if cwd is not None:
        monkeypatch.chdir(cwd)
    main = load_tool(osp.join(REPO_ROOT, 'tools', tool)).main
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main([str(a) for a in argv])
    out = capsys.readouterr()
    lines = (out.out + out.err).strip().splitlines()
    assert exit_.value.code == 2, lines
    assert not any('Traceback' in line for line in lines), lines
    assert len(lines) <= 3, lines  # the message comes first (and last)
    return lines


def _release(tmp_path):
    return _official_release(tmp_path / 'smmix.pth')


def _typo_config(tmp_path):
    """A user's config on ours with the classifier's type misspelled."""
    path = tmp_path / 'mine.py'
    path.write_text(f'_base_ = [{SMMIX_CONFIG!r}]\n'
                    "model = dict(type='MixImageClassifer')\n")
    return path


def _train(t, *options):
    return [SMMIX_CONFIG, '--work-dir', t / 'w', '--cfg-options', *SMALL,
            *options]


# (tool, argv (tmp_path -> list), expected pieces of the last line, cwd)
CASES = {
    'unconverted checkpoint to test.py': (
        'test.py',
        lambda t: [SMMIX_CONFIG, _release(t), '--work-dir', t / 'w',
                   '--cfg-options', *SMALL],
        lambda t: [f'tools/test.py: {t}/smmix.pth is an official SMMix '
                   'release checkpoint; convert it first: mmsmmix-convert '
                   f'smmix {t}/smmix.pth converted.pth'], None),
    'unconverted checkpoint to --resume': (
        'train.py',
        lambda t: [SMMIX_CONFIG, '--resume', _release(t), '--work-dir',
                   t / 'w', '--cfg-options', *SMALL],
        lambda t: [f'tools/train.py: {t}/smmix.pth is an official SMMix '
                   'release checkpoint; convert it first: mmsmmix-convert '
                   'smmix'], None),
    'missing checkpoint': (
        'test.py',
        lambda t: [SMMIX_CONFIG, t / 'nowhere.pth', '--work-dir', t / 'w',
                   '--cfg-options', *SMALL],
        lambda t: [f'tools/test.py: checkpoint {t}/nowhere.pth not found'],
        None),
    'missing data root': (
        'train.py', lambda t: [DEIT_CONFIG],
        lambda t: [
            "tools/train.py: train_dataloader.dataset.data_root = "
            f"'data/imagenet': {t}/data/imagenet does not exist, relative "
            f'to the current directory {t}. ',
            '--cfg-options train_dataloader.dataset.data_root=... '
            'val_dataloader.dataset.data_root=...'
        ], 'tmp'),
    'unknown type in an augment': (
        'train.py', lambda t: _train(t, 'model.train_cfg.augments.type=SMMx'),
        lambda t: ["model.train_cfg.augments.type='SMMx' is not registered",
                   "did you mean 'SMMix'?"], None),
    'unknown type of the model': (
        'train.py', lambda t: [_typo_config(t), '--work-dir', t / 'w'],
        lambda t: ["tools/train.py: model.type='MixImageClassifer' is not "
                   'registered', "did you mean 'MixImageClassifier'"],
        None),
    'misspelled option at the top': (
        'train.py', lambda t: _train(t, 'trian_cfg.max_epochs=1'),
        lambda t: ['--cfg-options trian_cfg.max_epochs=1: the config has no '
                   "key 'trian_cfg'", "did you mean 'train_cfg'"], None),
    'misspelled option nested': (
        'test.py', lambda t: [SMMIX_CONFIG, t / 'k.pth', '--cfg-options',
                              'model.head.num_clases=5'],
        lambda t: ["the config has no key 'num_clases' under 'model.head'",
                   "did you mean 'num_classes'"], None),
    'a value of the wrong type': (
        'train.py', lambda t: _train(t, 'train_cfg.max_epochs=abc'),
        lambda t: ['--cfg-options train_cfg.max_epochs=', 'expected a number',
                   "got the str 'abc'"], None),
    'evaluation on the training files': (
        'train.py', lambda t: _train(t, 'val_dataloader.dataset.split=train'),
        lambda t: ['val_dataloader.dataset', 'train'], None),
    'a misspelt comparison method': (
        osp.join('benchmark', 'compare_mixing.py'),
        lambda t: ['--quick', '--methods', 'smmx', '--work-dir', t / 'w'],
        lambda t: ["'smmx'", "did you mean 'smmix'?"], None),
    'missing config': (
        'train.py', lambda t: ['my_nomix.py'],
        lambda t: ["tools/train.py: config file 'my_nomix.py' not found "
                   f'(looked for {t}/my_nomix.py)'], 'tmp'),
}


@pytest.mark.parametrize('case', sorted(CASES))
def test_a_users_mistake_is_one_line(case, fmnist_root, tmp_path, capsys,
                                     monkeypatch):
    tool, argv, expected, cwd = CASES[case]
    lines = refuse(tool, argv(tmp_path), capsys, monkeypatch,
                   tmp_path if cwd == 'tmp' else None)
    for piece in expected(tmp_path):
        assert piece in lines[-1], lines
    assert not (tmp_path / 'work_dirs').exists()  # nothing was started
    assert not (tmp_path / 'w').exists()


def test_debug_shows_the_traceback(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    main = load_tool(osp.join(REPO_ROOT, 'tools', 'train.py')).main
    with pytest.raises(FileNotFoundError, match='my_nomix.py'):
        main(['my_nomix.py', '--debug'])
    monkeypatch.setenv('MMSMMIX_DEBUG', '1')
    with pytest.raises(FileNotFoundError, match='my_nomix.py'):
        main(['my_nomix.py'])


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
        f'first: mmsmmix-convert smmix {release} converted.pth')
