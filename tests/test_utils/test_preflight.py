"""The pre-flight check of a config (mmsmmix.utils.preflight): each kind of
mistake is refused in one line naming the key, and every real config under
configs/ passes (nothing is built)."""
import copy
import glob
import importlib.util
import os.path as osp
import re

import pytest
from mmengine.config import Config

from mmsmmix.utils import (ConfigError, UserError, check_cfg_options,
                           check_eval_split, check_registered_types, preflight)
from tests.helpers import REPO_ROOT

CONFIGS = osp.join(REPO_ROOT, 'configs')
FMNIST_SMMIX = osp.join(CONFIGS, 'fashion_mnist',
                        'vit-mini-p7_smmix_1xb64_fmnist.py')
FMNIST_MIXUP_CUTMIX = osp.join(CONFIGS, 'fashion_mnist',
                               'vit-mini-p7_mixup-cutmix_1xb64_fmnist.py')
UPERNET = osp.join(CONFIGS, 'downstream',
                   'upernet_deit-small-smmix_8xb2-80k_ade20k-512x512.py')


def _real_configs():
    paths = sorted(
        glob.glob(osp.join(CONFIGS, '**', '*.py'), recursive=True))
    return [
        osp.relpath(p, CONFIGS) for p in paths
        if not osp.relpath(p, CONFIGS).startswith(('_base_', 'compare_mixing'))
    ]


@pytest.fixture(scope='module')
def smmix_cfg():
    return Config.fromfile(FMNIST_SMMIX)


@pytest.fixture(scope='module')
def mixup_cutmix_cfg():
    return Config.fromfile(FMNIST_MIXUP_CUTMIX)


def _refused(func, *args) -> str:
    with pytest.raises(ConfigError) as info:
        func(*args)
    message = str(info.value)
    assert '\n' not in message
    return message


def test_config_error_is_a_user_error():
    assert issubclass(ConfigError, UserError)
    assert issubclass(ConfigError, ValueError)


def test_real_config_list_is_complete():
    names = _real_configs()
    # the eleven SMMix models twice, the Fashion-MNIST (ViT, Swin, PVT-v2)
    # and CIFAR-100 suites, the transfer and dense recipes
    assert len([n for n in names if n.startswith('smmix/')]) == 22
    assert len([n for n in names if n.startswith('fashion_mnist/')]) == 24
    assert len([n for n in names if n.startswith('mixing/cifar100/')]) == 11
    assert len([n for n in names if n.startswith('downstream/')]) == 5
    assert not [n for n in names if 'compare_mixing' in n or '_base_' in n]


@pytest.mark.parametrize('name', _real_configs())
def test_every_real_config_passes(name):
    cfg = Config.fromfile(osp.join(CONFIGS, name))
    preflight(cfg)


# ------------------------------------------------------------------- types
def test_unknown_augment_type_in_a_list(mixup_cutmix_cfg):
    cfg = copy.deepcopy(mixup_cutmix_cfg)
    cfg.model.train_cfg.augments[1].type = 'Cutmx'
    assert _refused(check_registered_types, cfg) == (
        "model.train_cfg.augments[1].type='Cutmx' is not registered in "
        "mmpretrain::batch augment; did you mean 'CutMix'?")


def test_unknown_smmix_augment(smmix_cfg):
    cfg = copy.deepcopy(smmix_cfg)
    cfg.model.train_cfg.augments.type = 'SMMx'
    assert _refused(preflight, cfg) == (
        "model.train_cfg.augments.type='SMMx' is not registered in "
        "mmpretrain::batch augment; did you mean 'SMMix'?")


def test_unknown_model_type(smmix_cfg):
    cfg = copy.deepcopy(smmix_cfg)
    cfg.model.type = 'MixImageClasifier'
    message = _refused(check_registered_types, cfg)
    assert message.startswith(
        "model.type='MixImageClasifier' is not registered in "
        "mmpretrain::model; did you mean 'MixImageClassifier'")


def test_no_suggestion_when_nothing_is_close(smmix_cfg):
    cfg = copy.deepcopy(smmix_cfg)
    cfg.model.backbone.type = 'Qwzxqwzx'
    assert _refused(check_registered_types, cfg) == (
        "model.backbone.type='Qwzxqwzx' is not registered in "
        'mmpretrain::model')


def test_scoped_names_resolve_and_are_suggested_with_their_scope(smmix_cfg):
    cfg = copy.deepcopy(smmix_cfg)
    cfg.model.backbone.type = 'mmpretrain.VisionTransformer'
    check_registered_types(cfg)
    cfg.model.backbone.type = 'mmpretrain.VisionTransfomer'
    assert "did you mean 'mmpretrain.VisionTransformer'" in _refused(
        check_registered_types, cfg)


def test_other_registries(smmix_cfg):
    cases = [
        (lambda c: c.train_dataloader.dataset.pipeline[0].update(
            type='RandomFlp'), 'train_dataloader.dataset.pipeline[0]',
         'RandomFlp', 'RandomFlip'),
        (lambda c: c.val_evaluator[1].update(type='ECF'), 'val_evaluator[1]',
         'ECF', 'ECE'),
        (lambda c: c.__setitem__(
            'test_evaluator',
            dict(type='Evaluator', metrics=[dict(type='Acuracy')])),
         'test_evaluator.metrics[0]', 'Acuracy', 'Accuracy'),
        (lambda c: c.custom_hooks[0].update(type='RandomStateHok'),
         'custom_hooks[0]', 'RandomStateHok', 'RandomStateHook'),
        (lambda c: c.optim_wrapper.optimizer.update(type='AdmW'),
         'optim_wrapper.optimizer', 'AdmW', 'AdamW'),
        (lambda c: c.train_dataloader.dataset.update(type='FashionMNISTIxd'),
         'train_dataloader.dataset', 'FashionMNISTIxd', 'FashionMNISTIdx'),
    ]
    for modify, where, wrong, right in cases:
        cfg = copy.deepcopy(smmix_cfg)
        modify(cfg)
        message = _refused(check_registered_types, cfg)
        assert message.startswith(f'{where}.type={wrong!r} is not registered')
        assert f'did you mean {right!r}' in message


def test_init_cfg_and_class_types_are_not_checked(smmix_cfg):
    cfg = copy.deepcopy(smmix_cfg)
    cfg.model.init_cfg = [dict(type='NotAnInitialiser')]
    cfg.train_dataloader.sampler.type = object  # a class, not a name
    check_registered_types(cfg)


@pytest.mark.skipif(importlib.util.find_spec('mmseg') is None,
                    reason='mmseg is not installed')
def test_dense_configs_resolve_in_their_scope():
    cfg = Config.fromfile(UPERNET)
    cfg.model.decode_head.type = 'UPerHed'
    assert _refused(check_registered_types, cfg) == (
        "model.decode_head.type='UPerHed' is not registered in "
        "mmseg::model; did you mean 'UPerHead'?")


# ------------------------------------------------------------- cfg-options
def test_misspelled_top_level_option(smmix_cfg):
    message = _refused(check_cfg_options, smmix_cfg,
                       {'trian_cfg.max_epochs': 1})
    assert message.startswith(
        "--cfg-options trian_cfg.max_epochs=1: the config has no key "
        "'trian_cfg' at the top level; did you mean 'train_cfg'")


def test_misspelled_nested_option(smmix_cfg):
    message = _refused(check_cfg_options, smmix_cfg,
                       {'train_cfg.max_epoch': 1})
    assert message.startswith(
        "--cfg-options train_cfg.max_epoch=1: the config has no key "
        "'max_epoch' under 'train_cfg'; did you mean 'max_epochs'")


def test_misspelled_argument_of_a_type(smmix_cfg):
    message = _refused(check_cfg_options, smmix_cfg,
                       {'model.train_cfg.augments.motivating_dtyp': 'auto'})
    assert "no key 'motivating_dtyp' under 'model.train_cfg.augments'; " \
        "did you mean 'motivating_dtype'?" in message
    message = _refused(check_cfg_options, smmix_cfg,
                       {'model.train_cfg.nonfinte': 'skip'})
    assert "did you mean 'nonfinite'?" in message


def test_option_without_close_name(smmix_cfg):
    message = _refused(check_cfg_options, smmix_cfg, {'qwzxqwzx': 1})
    assert message.startswith("--cfg-options qwzxqwzx=1: the config has no "
                              "key 'qwzxqwzx' at the top level (new keys")
    assert 'did you mean' not in message


def test_list_index_out_of_range(mixup_cutmix_cfg):
    assert _refused(
        check_cfg_options, mixup_cutmix_cfg,
        {'model.train_cfg.augments.2.alpha': 0.5}) == (
            '--cfg-options model.train_cfg.augments.2.alpha=0.5: index 2 is '
            "out of range: 'model.train_cfg.augments' is a list of 2 "
            '(indices 0..1)')


def test_key_into_a_list_needs_an_index(mixup_cutmix_cfg):
    message = _refused(check_cfg_options, mixup_cutmix_cfg,
                       {'model.train_cfg.augments.alpha': 0.5})
    assert "'model.train_cfg.augments' is a list of 2" in message
    assert 'model.train_cfg.augments.0' in message


def test_key_below_a_value(smmix_cfg):
    message = _refused(check_cfg_options, smmix_cfg,
                       {'optim_wrapper.optimizer.lr.value': 1})
    assert "'optim_wrapper.optimizer.lr' is 0.002 (float), not a dict" \
        in message


def test_existing_and_open_by_design_options_pass(mixup_cutmix_cfg,
                                                  smmix_cfg):
    # documented in docs/ and used by the comparison and the CUDA check
    check_cfg_options(
        smmix_cfg, {
            'train_cfg.max_epochs': 1,
            'train_cfg.val_begin': 2,
            'randomness.seed': 3,
            'default_hooks.checkpoint.interval': 1,
            'default_hooks.checkpoint.max_keep_ckpts': 2,
            'train_dataloader.dataset.indices': 128,
            'val_dataloader.dataset.indices': 200,
            'train_dataloader.dataset.data_root': '/tmp',
            'test_evaluator.1.dump_dir': '/tmp/ece',
            'model.train_cfg.augments.motivating_dtype': 'bfloat16',
            'model.train_cfg.nonfinite': 'skip',
            'model.backbone.patch_size': 4,
            'model.backbone.drop_path_rate': 0.1,
            'model.backbone.init_cfg.checkpoint': 'x.pth',
            'compile.backend': 'aot_eager',
            'env_cfg.dist_cfg.timeout': 60,
            'optim_wrapper.clip_grad.max_norm': 5.0,
            'train_dataloader.pin_memory': True,
            'load_from': 'x.pth',
            'work_dir': '/tmp/w',
            'auto_scale_lr.base_batch_size': 64,
        })
    check_cfg_options(mixup_cutmix_cfg,
                      {'model.train_cfg.augments.0.alpha': 0.5})


@pytest.mark.skipif(importlib.util.find_spec('mmseg') is None,
                    reason='mmseg is not installed')
def test_dense_options():
    cfg = Config.fromfile(UPERNET)
    # a dense model's test_cfg is free-form (mmseg's sliding window)
    check_cfg_options(cfg, {
        'model.test_cfg.mode': 'slide',
        'model.test_cfg.stride': (341, 341)
    })
    assert "did you mean 'num_classes'?" in _refused(
        check_cfg_options, cfg, {'model.decode_head.num_clases': 3})


def test_preflight_checks_types_set_by_options(smmix_cfg):
    message = _refused(preflight, copy.deepcopy(smmix_cfg),
                       {'model.train_cfg.augments.type': 'FMx'})
    assert message == (
        "model.train_cfg.augments.type='FMx' is not registered in "
        "mmpretrain::batch augment; did you mean 'FMix'?")


# -------------------------------------------------------------- eval split
def test_mnist_without_test_mode_is_refused(smmix_cfg):
    cfg = copy.deepcopy(smmix_cfg)
    cfg.val_dataloader.dataset = dict(
        type='MNIST', data_root='data/mnist', split='test', pipeline=[])
    assert _refused(check_eval_split, cfg) == (
        'val_dataloader.dataset: MNIST chooses its files by test_mode, not '
        "split, so without test_mode=True (split='test') it evaluates on "
        'the training images; set val_dataloader.dataset.test_mode=True')
    cfg.val_dataloader.dataset.test_mode = True
    check_eval_split(cfg)


def test_fashion_mnist_of_mmpretrain_is_refused_too(smmix_cfg):
    cfg = copy.deepcopy(smmix_cfg)
    cfg.test_dataloader.dataset = dict(
        type='FashionMNIST', data_root='data/fmnist', split='test')
    assert _refused(check_eval_split, cfg).startswith(
        'test_dataloader.dataset: FashionMNIST chooses its files by '
        'test_mode')


def test_fashion_mnist_idx_train_split_is_refused(smmix_cfg):
    expected = (
        "val_dataloader.dataset: FashionMNISTIdx(split='train') reads the "
        "training files; set val_dataloader.dataset.split='test' (or the "
        "dataset's evaluation split)")
    cfg = copy.deepcopy(smmix_cfg)
    cfg.val_dataloader.dataset.split = 'train'
    assert _refused(check_eval_split, cfg) == expected
    cfg.val_dataloader.dataset.pop('split')  # the default is 'train'
    assert _refused(check_eval_split, cfg) == expected
    # the same mistake given on the command line
    assert _refused(preflight, copy.deepcopy(smmix_cfg),
                    {'val_dataloader.dataset.split': 'train'}) == expected


def test_cifar_chooses_by_split(smmix_cfg):
    # MMPretrain 1.2's CIFAR10/100 read their files by `split` (test_mode
    # only warns): split='test' without test_mode is the test set
    cfg = copy.deepcopy(smmix_cfg)
    cfg.val_dataloader.dataset = dict(
        type='CIFAR100', data_root='data/cifar100', split='test')
    check_eval_split(cfg)
    cfg.val_dataloader.dataset.split = 'train'
    assert _refused(check_eval_split, cfg).startswith(
        "val_dataloader.dataset: CIFAR100(split='train') reads the "
        'training files')


def test_identical_imagenet_paths_are_refused(smmix_cfg):
    cfg = copy.deepcopy(smmix_cfg)
    cfg.train_dataloader.dataset = dict(
        type='ImageNet',
        data_root='data/imagenet',
        ann_file='meta/train.txt',
        data_prefix='train')
    # the same files written another way
    cfg.val_dataloader.dataset = dict(
        type='ImageNet',
        data_root='data/imagenet/',
        ann_file='./meta/train.txt',
        data_prefix='train/')
    assert _refused(check_eval_split, cfg).startswith(
        'val_dataloader.dataset: ImageNet reads the same files as the '
        'training dataset')
    cfg.val_dataloader.dataset.update(ann_file='meta/val.txt',
                                      data_prefix='val')
    check_eval_split(cfg)


@pytest.mark.parametrize('key,value,expected', [
    ('train_cfg.max_epochs', 'abc', "expected a number (the config has 8), "
     "got the str 'abc'"),
    ('model.train_cfg.augments.switch_prob', 'high',
     'expected a number (the config has 0.5)'),
    ('train_cfg.max_epochs', True, 'expected a number'),
])
def test_a_value_of_the_wrong_type_is_refused(key, value, expected):
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', 'fashion_mnist',
                                   'vit-mini-p7_smmix_1xb64_fmnist.py'))
    with pytest.raises(ConfigError, match=re.escape(expected)):
        check_cfg_options(cfg, {key: value})
    check_cfg_options(cfg, {key: 0.25})  # a number is fine
