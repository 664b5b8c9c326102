"""Shared fixtures: the real Fashion-MNIST files and a seeded torch.

Helpers shared by the test modules are in tests/helpers.py.
"""
import os.path as osp

import pytest
import torch

import mmsmmix  # noqa: F401  (registers modules)
from mmsmmix.datasets import FASHION_MNIST_ROOT


@pytest.fixture(scope='session')
def fmnist_root():
    """Folder of the Fashion-MNIST IDX files; skips when not installed."""
    if not osp.isfile(osp.join(FASHION_MNIST_ROOT,
                               't10k-images-idx3-ubyte.gz')):
        pytest.skip('Fashion-MNIST is not installed in '
                    f'{FASHION_MNIST_ROOT}: run `make install` (apt-get '
                    'install dataset-fashion-mnist)')
    return FASHION_MNIST_ROOT


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
