"""Helpers shared by the test modules (fixtures live in conftest.py).

Paths of the checkout, tiny model configs, config loading and model
building as the Runner does it, the PVT-v1 release layout, a Runner test on
real Fashion-MNIST images, and tools called in this process. Tools run in
processes through :mod:`tests.tool_process`.
"""
import copy
import importlib.util
import os
import os.path as osp
import pickle
import signal
from types import ModuleType

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmpretrain.datasets import CIFAR100
from mmpretrain.registry import DATASETS, MODELS

import mmsmmix  # noqa: F401  (registers modules)

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
FMNIST_CONFIGS = osp.join(REPO_ROOT, 'configs', 'fashion_mnist')
SMMIX_CONFIGS = osp.join(REPO_ROOT, 'configs', 'smmix')

# ------------------------------------------------------------ models


def tiny_vit_cfg(num_layers=2, embed_dims=64, num_heads=4, img_size=28,
                 patch_size=4, in_channels=1, out_type='raw', **kwargs):
    """Backbone config of a tiny mmpretrain ViT (7x7 grid at 28/4)."""
    return dict(
        type='VisionTransformer',
        arch=dict(
            embed_dims=embed_dims,
            num_layers=num_layers,
            num_heads=num_heads,
            feedforward_channels=embed_dims * 2),
        img_size=img_size,
        patch_size=patch_size,
        in_channels=in_channels,
        out_type=out_type,
        **kwargs)


def record_mixes(augment) -> list:
    """Spy on ``augment.mix``: the returned list receives the MixResult of
    every later call, in order (what was drawn is in ``result.info``)."""
    results = []
    mix = augment.mix

    def spy(*args, **kwargs):
        result = mix(*args, **kwargs)
        results.append(result)
        return result

    augment.mix = spy
    return results


def load_smmix_config(name: str) -> Config:
    """``configs/smmix/<name>``."""
    return Config.fromfile(osp.join(SMMIX_CONFIGS, name))


def build_config_model(cfg: Config) -> torch.nn.Module:
    """Build ``cfg.model`` the way the Runner does (its data preprocessor
    from ``cfg.data_preprocessor`` unless the model has one)."""
    init_default_scope('mmpretrain')
    model_cfg = copy.deepcopy(cfg.model)
    if 'data_preprocessor' not in model_cfg:
        model_cfg['data_preprocessor'] = copy.deepcopy(cfg.data_preprocessor)
    return MODELS.build(model_cfg)


def smmix_classifier(name: str) -> torch.nn.Module:
    """The model of ``configs/smmix/<name>``, initialised from seed 0, in
    eval mode."""
    torch.manual_seed(0)
    model = build_config_model(load_smmix_config(name))
    model.init_weights()
    return model.eval()


def swin_tiny_classifier() -> torch.nn.Module:
    """The Swin-T SMMix classifier of ``configs/smmix/``, seed 0, with every
    LayerNorm's weight and bias random too (so that a norm dropped,
    misplaced or reordered by a conversion shows), in eval mode."""
    model = smmix_classifier('swin-tiny_smmix_16xb64_in1k.py')
    with torch.no_grad():
        for module in model.backbone.modules():
            if isinstance(module, torch.nn.LayerNorm):
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(std=0.1)
    return model


#: Blocks per stage of the PVT-v1 architectures.
PVT_DEPTHS = dict(tiny=[2, 2, 2, 2], small=[3, 4, 6, 3],
                  medium=[3, 4, 18, 3], large=[3, 8, 27, 3])


def official_pvt_keys(depths) -> list:
    """The official ``classification/pvt.py`` state-dict keys without the
    head, in its order, written out from the release's module layout:
    direct parameters first (pos_embed1-4, cls_token), then per stage
    patch_embed, blocks (norm1, attn.q/kv/proj, attn.sr/norm where the
    spatial reduction is > 1, i.e. stages 1-3, norm2, mlp.fc1/fc2), then
    the final norm."""
    keys = [f'pos_embed{i}' for i in range(1, 5)] + ['cls_token']
    wb = ('weight', 'bias')
    for i, depth in enumerate(depths, 1):
        keys += [f'patch_embed{i}.{m}.{p}' for m in ('proj', 'norm')
                 for p in wb]
        for j in range(depth):
            names = ['norm1', 'attn.q', 'attn.kv', 'attn.proj']
            if i < 4:
                names += ['attn.sr', 'attn.norm']
            names += ['norm2', 'mlp.fc1', 'mlp.fc2']
            keys += [f'block{i}.{j}.{n}.{p}' for n in names for p in wb]
    return keys + ['norm.weight', 'norm.bias']


def pvt_backbone(arch: str = 'tiny', **kwargs) -> torch.nn.Module:
    """An initialised ``PyramidVisionTransformerV1`` in eval mode."""
    backbone = MODELS.build(
        dict(type='PyramidVisionTransformerV1', arch=arch, **kwargs))
    backbone.init_weights()
    backbone.eval()  # BaseBackbone.train() does not return self
    return backbone


#: Ranks of the two-process DDP tests.
DDP_WORLD_SIZE = 2


def ddp_model_cfg() -> dict:
    """The DDP tests' model: a tiny ViT ``MixImageClassifier`` with
    ``SMMixClsHead`` and SMMix (switch_prob 0.5)."""
    return dict(
        type='MixImageClassifier',
        backbone=tiny_vit_cfg(),
        head=dict(
            type='SMMixClsHead',
            num_classes=10,
            in_channels=64,
            loss=dict(type='CrossEntropyLoss', use_soft=True)),
        data_preprocessor=dict(
            num_classes=10, mean=[72.94], std=[90.02], to_rgb=False),
        train_cfg=dict(augments=dict(type='SMMix', switch_prob=0.5)))


# ---------------------------------------------------------- datasets


class TinyCIFAR100(CIFAR100):
    """MMPretrain's CIFAR100 loader unchanged, with the md5s of the official
    archive's files (which files written here cannot have) unset."""
    train_list = [['train', None]]
    test_list = [['test', None]]
    meta = dict(CIFAR100.meta, md5=None)


def build_dataset(cfg_dataset, root, **override):
    """A config's dataset read from ``root`` (keys in ``override`` replace
    the config's)."""
    cfg = copy.deepcopy(cfg_dataset)
    cfg.update(data_root=str(root), **override)
    return DATASETS.build(cfg)


def write_tiny_imagenet(root, counts=(('train', 4), ('val', 2))) -> str:
    """A tiny folder in ImageNet's layout under ``root``: random 256x300
    JPEGs, ``train/n0000000<i>/img<i>.JPEG`` and
    ``val/ILSVRC2012_val_0000000<i>.JPEG``, and ``meta/<split>.txt`` lines
    ``<name> <class>`` (class ``i * 250``). ``counts``: (split, images)."""
    rng = np.random.default_rng(0)
    for split, count in counts:
        lines = []
        for i in range(count):
            name = f'n0000000{i}/img{i}.JPEG' if split == 'train' else \
                f'ILSVRC2012_val_0000000{i}.JPEG'
            path = osp.join(root, split, name)
            os.makedirs(osp.dirname(path), exist_ok=True)
            image = rng.integers(0, 256, (256, 300, 3)).astype(np.uint8)
            assert cv2.imwrite(path, image)
            lines.append(f'{name} {i * 250}')
        os.makedirs(osp.join(root, 'meta'), exist_ok=True)
        with open(osp.join(root, 'meta', f'{split}.txt'), 'w') as f:
            f.write('\n'.join(lines) + '\n')
    return str(root)


# ------------------------------------- Runner tests on Fashion-MNIST

#: Test images of :func:`run_test`.
RUN_TEST_IMAGES = 200
#: The Fashion-MNIST data preprocessor of :func:`tiny_model`.
FMNIST_PREPROCESSOR = dict(
    type='ClsDataPreprocessor', num_classes=10, mean=[72.94], std=[90.02])


def randomise_head(model):
    """mmpretrain zero-initialises the ViT head, so untrained predictions
    would all be uniform; random head weights make them differ per image."""
    for p in model.head.parameters():
        torch.nn.init.normal_(p, std=0.2)
    return model


def tiny_model(backbone=None):
    """An untrained classifier: tiny ViT (7x7 grid) or the given backbone,
    with a random head."""
    if backbone is None:
        cfg = dict(
            type='ImageClassifier',
            data_preprocessor=FMNIST_PREPROCESSOR,
            backbone=tiny_vit_cfg(out_type='cls_token'),
            head=dict(
                type='VisionTransformerClsHead', num_classes=10,
                in_channels=64))
    else:
        cfg = dict(
            type='ImageClassifier',
            data_preprocessor=FMNIST_PREPROCESSOR,
            backbone=backbone,
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=10, in_channels=64))
    model = MODELS.build(cfg)
    model.init_weights()
    return randomise_head(model).eval()


def run_test(model, fmnist_root, work_dir, test_cfg, name,
             num_images=RUN_TEST_IMAGES, pipeline=None):
    """Runner.test() on the first real test images (default pipeline: just
    PackInputs); returns the runner, its metrics and the dumped predictions."""
    dump = osp.join(work_dir, f'{name}.pkl')
    runner = Runner(
        model=model,
        work_dir=work_dir,
        experiment_name=name,
        default_scope='mmpretrain',
        log_level='WARNING',
        test_dataloader=dict(
            batch_size=64,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=dict(
                type='FashionMNISTIdx',
                data_root=fmnist_root,
                split='test',
                indices=num_images,
                pipeline=pipeline or [dict(type='PackInputs')])),
        test_evaluator=[
            dict(type='Accuracy', topk=(1, )),
            dict(type='DumpResults', out_file_path=dump)
        ],
        test_cfg=test_cfg)
    metrics = runner.test()
    with open(dump, 'rb') as f:
        preds = pickle.load(f)
    return runner, metrics, preds


# ------------------------------------------------ tools in this process


def load_tool(path: str) -> ModuleType:
    """Import a tool file (relative paths: from the repository root) as a
    module, without running its ``__main__`` block."""
    path = osp.join(REPO_ROOT, path)
    name = 'tool_' + osp.splitext(osp.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def refused(path: str, *argv: str, capsys) -> tuple:
    """Call the tool's ``main(argv)`` in this process, expecting it to
    refuse (``SystemExit``) before any work. Returns the exit status the
    process would have (a message given to ``SystemExit`` exits 1) and
    the message: that text, then what went to stderr (argparse's usage
    and error). Signal handlers the tool set are put back."""
    tool = load_tool(path)
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT,
                                                 signal.SIGTERM)}
    capsys.readouterr()
    try:
        with pytest.raises(SystemExit) as exit_:
            tool.main(list(argv))
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
    code = exit_.value.code
    err = capsys.readouterr().err
    if isinstance(code, str):
        return 1, f'{code}\n{err}'
    return (0 if code is None else code), err
