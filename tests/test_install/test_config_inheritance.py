"""Other projects' configs inherit ours: ``mmsmmix::`` once mmsmmix is
imported, or ``custom_imports`` + ``mmpretrain::`` bases; and the
``mmsmmix`` scope builds every module a base names."""
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config
from mmengine.registry import MODELS as ROOT_MODELS

import mmsmmix
from mmsmmix.registry import config_dir, package_dir
from tests.helpers import REPO_ROOT


def test_the_checkout_links_its_configs_into_mim():
    """An editable install links configs, tools and the model index into
    mmsmmix/.mim, where mmengine and mim look."""
    mim = osp.join(package_dir(), '.mim')
    for name in ('configs', 'tools', 'model-index.yml'):
        assert osp.realpath(osp.join(mim, name)) == osp.join(REPO_ROOT, name)
    assert config_dir() == osp.join(mim, 'configs')


def test_mmsmmix_base_resolves_and_builds(tmp_path):
    (tmp_path / 'mine.py').write_text(
        "_base_ = ['mmsmmix::fashion_mnist/vit-mini-p7_smmix_1xb64_fmnist"
        ".py']\nmodel = dict(head=dict(num_classes=7))\n")
    cfg = Config.fromfile(str(tmp_path / 'mine.py'))
    ours = Config.fromfile(osp.join(
        REPO_ROOT, 'configs', 'fashion_mnist',
        'vit-mini-p7_smmix_1xb64_fmnist.py'))
    assert cfg.model.type == ours.model.type == 'MixImageClassifier'
    assert cfg.model.train_cfg == ours.model.train_cfg
    assert cfg.model.head.num_classes == 7
    # Type dicts of an mmsmmix:: base are built in the mmsmmix scope,
    # whose registries find MMPretrain's (and ours) through their parents
    # (the config key mmengine's registries read).
    assert cfg.model['_scope_'] == 'mmsmmix'
    model = ROOT_MODELS.build(cfg.model)
    assert type(model).__name__ == 'MixImageClassifier'
    assert type(model.augments[0]).__name__ == 'SMMix'
    assert model.head.num_classes == 7


def test_custom_imports_with_mmpretrain_bases(tmp_path):
    (tmp_path / 'mine.py').write_text(
        "_base_ = 'mmpretrain::deit/deit-tiny_4xb256_in1k.py'\n"
        "custom_imports = dict(imports=['mmsmmix'])\n"
        "model = dict(type='MixImageClassifier', backbone=dict("
        "out_type='raw'), head=dict(type='SMMixClsHead', loss=dict("
        "_delete_=True, type='CrossEntropyLoss', use_soft=True)), "
        "train_cfg=dict(_delete_=True, augments=dict(type='SMMix')))\n")
    cfg = Config.fromfile(str(tmp_path / 'mine.py'))
    model = ROOT_MODELS.build(cfg.model)
    assert type(model.augments[0]).__name__ == 'SMMix'
    assert model.backbone.embed_dims == 192


@pytest.mark.slow
def test_a_process_that_never_imports_mmsmmix_cannot_resolve_it(tmp_path):
    """What docs/user_guides/configs.md says does not work: mmengine only
    knows registered package names."""
    (tmp_path / 'mine.py').write_text(
        "_base_ = ['mmsmmix::fashion_mnist/vit-mini-p7_smmix_1xb64_fmnist"
        ".py']\ncustom_imports = dict(imports=['mmsmmix'])\n")
    proc = subprocess.run([
        sys.executable, '-c', 'import sys; from mmengine.config import '
        'Config; Config.fromfile(sys.argv[1])', str(tmp_path / 'mine.py')
    ], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert 'mmengine does not support to load mmsmmix config' in proc.stderr


@pytest.mark.slow
def test_import_says_what_is_missing(tmp_path):
    """In a Python without the OpenMMLab stack, importing mmsmmix names
    what is missing and how to get it (no bare ModuleNotFoundError from
    deep inside)."""
    bare = tmp_path / 'bare'
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip',
                    str(bare)], check=True)
    proc = subprocess.run(
        [str(bare / 'bin' / 'python'), '-c', 'import mmsmmix'],
        env=dict(PYTHONPATH=REPO_ROOT, PATH='/usr/bin:/bin'),
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(
        'ImportError: mmsmmix runs in an OpenMMLab 2.0 environment; '
        'missing: PyTorch>=2.5 (https://pytorch.org), mmengine>=0.10.0,'
        '<1.0.0, mmcv>=2.0.0,<2.2.0 (or mmcv-lite for classification '
        'only), mmpretrain>=1.2.0,<1.3.0. '), last
    assert 'pip install "mmsmmix[lite]"' in last


@pytest.mark.parametrize('extra,requirements', [
    ('lite', 'requirements/lite.txt'),
    ('mim', 'requirements/mminstall.txt'),
])
def test_import_message_ranges_match_the_extras(extra, requirements):
    with open(osp.join(REPO_ROOT, requirements)) as f:
        declared = [line.split('#')[0].strip() for line in f
                    if line.split('#')[0].strip()]
    for req in declared:
        name = req.split('>')[0].split('<')[0].replace('-lite', '')
        assert req.replace('mmcv-lite', 'mmcv') in \
            mmsmmix.OPENMMLAB_STACK[name], (extra, req)
