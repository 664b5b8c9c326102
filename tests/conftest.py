"""Shared fixtures: the real Fashion-MNIST files and tiny model configs."""
import os.path as osp

import pytest
import torch

import mmsmmix  # noqa: F401  (registers modules)
from mmsmmix.datasets import FASHION_MNIST_ROOT

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
FMNIST_CONFIGS = osp.join(REPO_ROOT, 'configs', 'fashion_mnist')


@pytest.fixture(scope='session')
def fmnist_root():
    """Folder of the Fashion-MNIST IDX files; skips when not installed."""
    if not osp.isfile(osp.join(FASHION_MNIST_ROOT,
                               't10k-images-idx3-ubyte.gz')):
        pytest.skip('Fashion-MNIST is not installed in '
                    f'{FASHION_MNIST_ROOT}: run `make install` (apt-get '
                    'install dataset-fashion-mnist)')
    return FASHION_MNIST_ROOT


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


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
