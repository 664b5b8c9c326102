"""configs/downstream/: each config, built from mmseg's / mmdet's own base
configs, trains one step and validates through the real mmengine Runner on
CPU, on tiny datasets written here in the on-disk layouts the configs read
(ADE20K folders, COCO json), starting from a converted SMMix checkpoint
(Swin: a Swin-T classifier built from MMPretrain's model config)."""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

from mmsmmix.models.converters import convert_to_dense
from tests.helpers import REPO_ROOT, smmix_classifier, swin_tiny_classifier

pytestmark = pytest.mark.dense
DOWNSTREAM = osp.join(REPO_ROOT, 'configs', 'downstream')
SIZE = 64


@pytest.fixture(scope='module', autouse=True)
def _dense_stack():
    pytest.importorskip('mmseg.models', reason='the dense extra is not '
                        'installed (make dense)')
    pytest.importorskip('mmdet.models', reason='the dense extra is not '
                        'installed (make dense)')


def _converted(tmp_path, config, arch, target):
    state = (swin_tiny_classifier() if arch == 'swin' else
             smmix_classifier(config)).state_dict()
    path = str(tmp_path / f'{target}.pth')
    torch.save(convert_to_dense(state, arch, target), path)
    return path


def _image(path, seed):
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (SIZE, SIZE, 3),
                                 dtype=np.uint8)).save(path)


def _ade20k(root):
    """Two training and one validation image in ADE20K's layout."""
    for split, count in (('training', 2), ('validation', 1)):
        for i in range(count):
            (root / 'images' / split).mkdir(parents=True, exist_ok=True)
            (root / 'annotations' / split).mkdir(parents=True, exist_ok=True)
            _image(root / 'images' / split / f'ADE_{split}_{i}.jpg', i)
            label = np.zeros((SIZE, SIZE), dtype=np.uint8)  # 0 = ignored
            label[:SIZE // 2] = 5
            label[SIZE // 2:, :SIZE // 2] = 13
            Image.fromarray(label).save(root / 'annotations' / split /
                                        f'ADE_{split}_{i}.png')


def _coco(root, classes):
    """Two training and one validation image with one box and polygon."""
    (root / 'annotations').mkdir(parents=True)
    for split, count in (('train2017', 2), ('val2017', 1)):
        (root / split).mkdir()
        images, annotations = [], []
        for i in range(count):
            _image(root / split / f'{i:012d}.jpg', i)
            images.append(dict(id=i + 1, file_name=f'{i:012d}.jpg',
                               width=SIZE, height=SIZE))
            x, y, w, h = 8 + 4 * i, 10, 30, 24
            annotations.append(
                dict(id=i + 1, image_id=i + 1, category_id=1,
                     bbox=[x, y, w, h], area=w * h, iscrowd=0,
                     segmentation=[[x, y, x + w, y, x + w, y + h, x, y + h]]))
        categories = [dict(id=k + 1, name=name)
                      for k, name in enumerate(classes)]
        with open(root / 'annotations' / f'instances_{split}.json',
                  'w') as f:
            json.dump(dict(images=images, annotations=annotations,
                           categories=categories), f)


def _small_loaders(cfg, root):
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].num_workers = 0
        cfg[loader].persistent_workers = False
        cfg[loader].dataset.data_root = str(root)
    cfg.train_dataloader.batch_size = 2


def _resize(pipeline, scale):
    for step in pipeline:
        if step['type'] in ('Resize', 'RandomResize'):
            step['scale'] = scale


def _train_and_validate(cfg, work_dir):
    from mmengine.runner import Runner
    cfg.work_dir = str(work_dir)
    cfg.default_hooks.logger.interval = 1
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def _ade20k_one_step(tmp_path, cfg, checkpoint):
    """One training and one validation step of an mmseg config on CPU."""
    root = tmp_path / 'ade'
    _ade20k(root)
    cfg.model.backbone.init_cfg.checkpoint = checkpoint
    # CPU, one process: BN for SyncBN, 64-px crops for 512-px ones.
    for head in ('decode_head', 'auxiliary_head'):
        cfg.model[head].norm_cfg = dict(type='BN', requires_grad=True)
    cfg.model.data_preprocessor.size = (SIZE, SIZE)
    _small_loaders(cfg, root)
    for step in cfg.train_dataloader.dataset.pipeline:
        if step['type'] == 'RandomCrop':
            step['crop_size'] = (SIZE, SIZE)
    _resize(cfg.train_dataloader.dataset.pipeline, (SIZE * 4, SIZE))
    _resize(cfg.val_dataloader.dataset.pipeline, (SIZE * 4, SIZE))
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=1,
                         val_interval=1)
    runner = _train_and_validate(cfg, tmp_path / 'work')
    assert runner.iter == 1
    scalars = runner.message_hub.log_scalars
    assert 'val/mIoU' in scalars and 'train/decode.loss_ce' in scalars
    return runner


def test_upernet_deit_small_ade20k(tmp_path):
    checkpoint = _converted(tmp_path, 'deit-small_smmix_4xb256_in1k.py',
                            'vit', 'mmseg-vit')
    cfg = Config.fromfile(osp.join(
        DOWNSTREAM, 'upernet_deit-small-smmix_8xb2-80k_ade20k-512x512.py'))
    assert cfg.model.backbone.init_cfg.checkpoint == \
        'pretrain/deit-small_smmix_mmseg.pth'
    assert cfg.model.pretrained is None
    assert cfg.model.backbone.patch_bias is True
    runner = _ade20k_one_step(tmp_path, cfg, checkpoint)
    backbone = runner.model.backbone
    # the converted weights were loaded (then one optimiser step moved them)
    state = torch.load(checkpoint, weights_only=True)
    assert torch.allclose(backbone.cls_token, state['cls_token'], atol=1e-3)


def test_upernet_swin_tiny_ade20k(tmp_path):
    checkpoint = _converted(tmp_path, None, 'swin', 'mmseg-swin')
    cfg = Config.fromfile(osp.join(
        DOWNSTREAM, 'upernet_swin-tiny-smmix_8xb2-160k_ade20k-512x512.py'))
    assert cfg.model.backbone.type == 'SwinTransformer'
    assert cfg.model.backbone.init_cfg.checkpoint == \
        'pretrain/swin-tiny_smmix_mmseg.pth'
    assert cfg.model.pretrained is None
    runner = _ade20k_one_step(tmp_path, cfg, checkpoint)
    backbone = runner.model.backbone
    state = torch.load(checkpoint, weights_only=True)
    # the classifier's (random) norm3 and a stage-1 qkv were loaded
    assert torch.allclose(backbone.norm3.weight, state['norm3.weight'],
                          atol=1e-3)
    assert torch.allclose(
        backbone.stages[0].blocks[0].attn.w_msa.qkv.weight,
        state['stages.0.blocks.0.attn.w_msa.qkv.weight'], atol=1e-3)


def _coco_one_epoch(tmp_path, cfg, checkpoint, metrics):
    """One training step (one epoch of 2 images) and one validation of an
    mmdet config on CPU."""
    from mmdet.datasets import CocoDataset
    root = tmp_path / 'coco'
    _coco(root, CocoDataset.METAINFO['classes'])
    assert cfg.optim_wrapper.optimizer.type == 'AdamW'
    cfg.model.backbone.init_cfg.checkpoint = checkpoint
    _small_loaders(cfg, root)
    _resize(cfg.train_dataloader.dataset.pipeline, (SIZE * 2, SIZE))
    _resize(cfg.val_dataloader.dataset.pipeline, (SIZE * 2, SIZE))
    cfg.val_evaluator.ann_file = str(root / 'annotations' /
                                     'instances_val2017.json')
    cfg.train_cfg.max_epochs = 1
    # keep every detection of the barely trained model, so COCO scores them
    test_cfg = cfg.model.test_cfg
    (test_cfg.rcnn if 'rcnn' in test_cfg else test_cfg).score_thr = 0.
    runner = _train_and_validate(cfg, tmp_path / 'work')
    assert runner.iter == 1
    scalars = runner.message_hub.log_scalars
    for metric in metrics:
        assert f'val/coco/{metric}_mAP' in scalars
    return runner


@pytest.mark.parametrize('config,metrics', [
    ('retinanet_pvt-small-smmix_fpn_1x_coco.py', ['bbox']),
    ('mask-rcnn_pvt-small-smmix_fpn_1x_coco.py', ['bbox', 'segm']),
])
def test_pvt_small_coco(tmp_path, config, metrics):
    checkpoint = _converted(tmp_path, 'pvt-small_smmix_4xb256_in1k.py',
                            'pvt', 'mmdet-pvt')
    cfg = Config.fromfile(osp.join(DOWNSTREAM, config))
    assert cfg.model.backbone.type == 'PyramidVisionTransformer'
    assert cfg.model.backbone.num_layers == [3, 4, 6, 3]
    assert cfg.model.backbone.init_cfg.checkpoint == \
        'pretrain/pvt-small_smmix_mmdet.pth'
    runner = _coco_one_epoch(tmp_path, cfg, checkpoint, metrics)
    state = torch.load(checkpoint, weights_only=True)
    q = runner.model.backbone.layers[0][1][1].attn.attn.in_proj_weight
    # q of block1.0 (before the single optimiser step)
    assert torch.allclose(q[:64], state['block1.0.attn.q.weight'],
                          atol=1e-3)


def test_mask_rcnn_swin_tiny_coco(tmp_path):
    checkpoint = _converted(tmp_path, None, 'swin', 'mmdet-swin')
    cfg = Config.fromfile(
        osp.join(DOWNSTREAM, 'mask-rcnn_swin-tiny-smmix_fpn_1x_coco.py'))
    assert cfg.model.backbone.type == 'SwinTransformer'
    assert cfg.model.backbone.depths == [2, 2, 6, 2]
    assert cfg.model.backbone.convert_weights is False
    assert cfg.model.backbone.init_cfg.checkpoint == \
        'pretrain/swin-tiny_smmix_mmdet.pth'
    runner = _coco_one_epoch(tmp_path, cfg, checkpoint, ['bbox', 'segm'])
    backbone = runner.model.backbone
    state = torch.load(checkpoint, weights_only=True)
    # the classifier's (random) norm3 and the patch embedding were loaded
    assert torch.allclose(backbone.norm3.weight,
                          state['backbone.norm3.weight'], atol=1e-3)
    assert torch.allclose(backbone.patch_embed.projection.weight,
                          state['backbone.patch_embed.projection.weight'],
                          atol=1e-3)
