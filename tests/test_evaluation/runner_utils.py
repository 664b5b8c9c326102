"""Shared by the robustness tests: tiny untrained models and a Runner test
on real Fashion-MNIST images that dumps per-sample predictions."""
import os.path as osp
import pickle

import torch
from mmengine.runner import Runner
from mmpretrain.registry import MODELS

from tests.conftest import tiny_vit_cfg

NUM_IMAGES = 200
PREPROCESSOR = dict(
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
            data_preprocessor=PREPROCESSOR,
            backbone=tiny_vit_cfg(out_type='cls_token'),
            head=dict(
                type='VisionTransformerClsHead', num_classes=10,
                in_channels=64))
    else:
        cfg = dict(
            type='ImageClassifier',
            data_preprocessor=PREPROCESSOR,
            backbone=backbone,
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=10, in_channels=64))
    model = MODELS.build(cfg)
    model.init_weights()
    return randomise_head(model).eval()


def run_test(model, fmnist_root, work_dir, test_cfg, name,
             num_images=NUM_IMAGES, pipeline=None):
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
