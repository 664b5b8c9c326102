"""The Fashion-MNIST configs and comparison suites on backbones without a
class token: Swin-mini (28 px, patch 2) and PVT-v2-mini (56 px). Each
method config builds and trains one step at batch 4 with finite losses on
the expected 7x7 last-stage grid; both suites load and list their methods."""
import math
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmpretrain.structures import DataSample

from mmsmmix.benchmarks.comparison.suite import load_suite
from mmsmmix.evaluation.loops.corruption_loop import insert_corruption
from mmsmmix.models.probes import build_attention_probe
from tests.helpers import REPO_ROOT, build_config_model, record_mixes

CONFIGS = osp.join(REPO_ROOT, 'configs')
METHODS = ('nomix', 'cutmix', 'mixup_cutmix', 'mixpro', 'transmix', 'smmix')
# model -> (config prefix, backbone, input side, last-stage cell, MixPro
# cell, suite, label prefix)
MODELS = dict(
    swin=('swin-mini-p2', 'SwinTransformer', 28, 4, 7, 'fashion_mnist_swin',
          'Swin: '),
    pvt=('pvt-v2-mini', 'PyramidVisionTransformerV2', 56, 8, 14,
         'fashion_mnist_pvt-v2', 'PVT-v2: '),
)
AUGMENTS = dict(
    nomix=[],
    cutmix=['CutMix'],
    mixup_cutmix=['Mixup', 'CutMix'],
    mixpro=['MixPro'],
    transmix=['Mixup', 'TransMix'],
    smmix=['SMMix'],
)


def _name(model, method):
    return (f"fashion_mnist/{MODELS[model][0]}_{method.replace('_', '-')}"
            '_1xb64_fmnist.py')


def _cfg(model, method):
    return Config.fromfile(osp.join(CONFIGS, _name(model, method)))


def _step(model, side):
    torch.manual_seed(0)
    data = dict(
        inputs=[torch.randint(0, 256, (1, side, side), dtype=torch.uint8)
                for _ in range(4)],
        data_samples=[DataSample().set_gt_label(k) for k in (0, 3, 7, 9)])
    model.train()
    log_vars = model.train_step(
        data, OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-3)))
    for key, value in log_vars.items():
        assert math.isfinite(float(value)), (key, log_vars)
    return log_vars


@pytest.mark.parametrize('model_name', MODELS)
@pytest.mark.parametrize('method', METHODS)
def test_config_trains_one_step_on_the_7x7_grid(model_name, method):
    _, backbone, side, cell, mixpro_cell, *_ = MODELS[model_name]
    cfg = _cfg(model_name, method)
    if method == 'smmix':
        assert cfg.model.train_cfg.augments.switch_prob == 0.5
        cfg.model.train_cfg.augments.switch_prob = 1.0  # the SMMix branch
    model = build_config_model(cfg)
    assert type(model.backbone).__name__ == backbone
    assert model.head.num_classes == 10
    layout, size = build_attention_probe(model.backbone).configured_layout()
    assert size == (side, side)
    assert (layout.grid, layout.patch_size) == ((7, 7), (cell, cell))
    assert not layout.class_token

    augments = [a.name for a in getattr(model, 'augments', [])]
    assert augments == AUGMENTS[method]
    if method == 'nomix':
        assert type(model).__name__ == 'ImageClassifier'
        _step(model, side)
    elif method == 'smmix':
        assert model.neck is None
        assert type(model.head).__name__ == 'SMMixClsHead'
        mixes = record_mixes(model.augments[0])
        log_vars = _step(model, side)
        (drawn, ) = [m.info for m in mixes]
        assert drawn['branch'] == 'smmix'
        assert 1 <= drawn['region_size'] <= 5
        assert drawn['region'].source_mask.shape == (4, 49)
        assert {'loss_cls', 'loss_fine', 'loss_con'} <= set(log_vars)
    elif method == 'transmix':
        assert model.augments[1].attn_stat == 'pooled'
        assert list(model.switch.probs) == [0.2, 0.8]
        model.switch.probs = [0., 1.]
        mixes = record_mixes(model.augments[1])
        _step(model, side)
        assert len(mixes) == 1
    elif method == 'mixpro':
        (mixpro, ) = model.augments
        assert (mixpro.cell_pixels, mixpro.pal, mixpro.attn_stat) == \
            (mixpro_cell, False, None)
        assert side == 4 * mixpro_cell  # a quarter of the side
        mixpro.maskmix_prob = 1.  # the MaskMix branch
        mixes = record_mixes(mixpro)
        _step(model, side)
        assert mixes[0].info['batch'].tokens.shape == (4, 16)  # 4x4 cells
    else:
        assert type(model.neck).__name__ == 'GlobalAveragePooling'
        _step(model, side)


@pytest.mark.parametrize('model_name', MODELS)
def test_method_configs_share_the_vit_recipe(model_name):
    """The ViT-mini's data, schedule and runtime; only the model differs."""
    vit = Config.fromfile(osp.join(
        CONFIGS, 'fashion_mnist/vit-mini-p7_nomix_1xb64_fmnist.py'))
    for method in METHODS:
        cfg = _cfg(model_name, method)
        assert cfg.train_cfg.to_dict() == vit.train_cfg.to_dict()
        assert cfg.param_scheduler == vit.param_scheduler
        assert cfg.optim_wrapper.optimizer == vit.optim_wrapper.optimizer
        assert cfg.train_dataloader.batch_size == 64
        assert cfg.data_preprocessor == vit.data_preprocessor
        assert cfg.train_dataloader.dataset.type == 'FashionMNISTIdx'


def test_pvt_pipelines_resize_to_56_px_and_corrupt_after_the_resize():
    init_default_scope('mmpretrain')
    cfg = _cfg('pvt', 'nomix')
    image = np.random.default_rng(0).integers(0, 256, (28, 28), np.uint8)
    for loader in ('train', 'val', 'test'):
        pipeline = Compose(cfg[f'{loader}_dataloader'].dataset.pipeline)
        packed = pipeline(dict(img=image.copy(), gt_label=3))
        assert tuple(packed['inputs'].shape) == (1, 56, 56), loader
    corrupted = insert_corruption(cfg.test_dataloader.to_dict(),
                                  'gaussian_noise', 3, 0)
    assert [t['type'] for t in corrupted['dataset']['pipeline']] == \
        ['Resize', 'Corrupt', 'PackInputs']
    packed = Compose(corrupted['dataset']['pipeline'])(
        dict(img=image.copy(), gt_label=3, sample_idx=0))
    assert tuple(packed['inputs'].shape) == (1, 56, 56)


@pytest.mark.parametrize('model_name', MODELS)
def test_suite_loads_and_lists_its_methods(model_name):
    *_, suite_name, label = MODELS[model_name]
    suite = load_suite(osp.join(CONFIGS, 'compare_mixing',
                                f'{suite_name}.py'))
    assert suite.name == suite_name
    assert suite.dataset == 'Fashion-MNIST'
    assert tuple(suite.methods) == METHODS
    assert suite.highlight == ('smmix', )
    for method, entry in suite.methods.items():
        assert entry.config == osp.join(CONFIGS, _name(model_name, method))
        assert entry.label.startswith(label)
        assert entry.label.endswith('(ours)') == (method == 'transmix')
    default = suite.setting('default')
    assert (default['train_images'], default['epochs'],
            default['seeds']) == (5000, 40, 2)
    quick = suite.setting('quick')
    assert (quick['train_images'], quick['epochs'], quick['seeds']) == \
        (128, 1, 1)
