"""Fashion-MNIST read in place from the IDX files (gzipped or not).

Debian's ``dataset-fashion-mnist`` installs the four ``.gz`` files under
``/usr/share/datasets/fashion-mnist``. MMPretrain's ``FashionMNIST`` looks for
the uncompressed names and picks the split from ``test_mode`` (so
``split='test'`` silently gives the training set); this class reads either
form and chooses the files by ``split``.
"""
import gzip
import os.path as osp
import struct
from typing import List

import numpy as np
from mmpretrain.datasets import BaseDataset
from mmpretrain.datasets.categories import FASHIONMNIST_CATEGORITES
from mmpretrain.registry import DATASETS

FASHION_MNIST_ROOT = '/usr/share/datasets/fashion-mnist'
_PREFIX = dict(train='train', test='t10k')


def read_idx(path: str) -> np.ndarray:
    """Read an IDX file of unsigned bytes (``.gz`` or raw) into an array.

    Args:
        path (str): File path.

    Returns:
        np.ndarray: uint8 array of the shape stored in the header.
    """
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack('>HBB', data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f'{path} is not an IDX file of unsigned bytes')
    shape = struct.unpack('>' + 'I' * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)


@DATASETS.register_module()
class FashionMNISTIdx(BaseDataset):
    """Fashion-MNIST: 28x28 grayscale images of 10 clothing classes.

    Args:
        data_root (str): Folder of the IDX files. Defaults to Debian's.
        split (str): ``'train'`` (60,000 images) or ``'test'`` (10,000).
        **kwargs: Passed to ``BaseDataset`` (``pipeline``, ``indices``, ...).
    """

    METAINFO = {'classes': FASHIONMNIST_CATEGORITES}

    def __init__(self,
                 data_root: str = FASHION_MNIST_ROOT,
                 split: str = 'train',
                 **kwargs):
        if split not in _PREFIX:
            raise ValueError(
                f"split must be one of {tuple(_PREFIX)}, got {split!r}")
        self.split = split
        kwargs.setdefault('test_mode', split == 'test')
        super().__init__(
            ann_file='', data_root=data_root, data_prefix='', **kwargs)

    def _find(self, kind: str) -> str:
        stem = f'{_PREFIX[self.split]}-{kind}-idx{3 if kind == "images" else 1}-ubyte'
        for name in (stem + '.gz', stem):
            path = osp.join(self.data_root, name)
            if osp.isfile(path):
                return path
        raise FileNotFoundError(
            f'Fashion-MNIST {stem}[.gz] not found in data_root='
            f'{self.data_root!r}; install it with `apt-get install '
            'dataset-fashion-mnist` or point data_root at the IDX files')

    def load_data_list(self) -> List[dict]:
        images = read_idx(self._find('images'))
        labels = read_idx(self._find('labels'))
        if len(images) != len(labels):
            raise ValueError(f'{len(images)} images but {len(labels)} labels '
                             f'in {self.data_root}')
        return [
            dict(img=img, gt_label=int(label))
            for img, label in zip(images, labels)
        ]
