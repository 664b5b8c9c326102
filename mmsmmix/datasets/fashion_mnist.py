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
import zlib
from typing import List, Optional

import numpy as np
from mmpretrain.datasets import BaseDataset
from mmpretrain.datasets.categories import FASHIONMNIST_CATEGORITES
from mmpretrain.registry import DATASETS

FASHION_MNIST_ROOT = '/usr/share/datasets/fashion-mnist'
_PREFIX = dict(train='train', test='t10k')


def read_idx(path: str, ndim: Optional[int] = None) -> np.ndarray:
    """Read an IDX file of unsigned bytes (``.gz`` or raw) into an array.

    Args:
        path (str): File path.
        ndim (int, optional): Number of dimensions the file must hold (3 for
            images, 1 for labels); None accepts any.

    Returns:
        np.ndarray: uint8 array of the shape stored in the header.

    Raises:
        ValueError: Naming ``path``, if the gzip stream is damaged or cut
            off, the header is not that of an unsigned-byte IDX file, the
            data is shorter or longer than the header says, or the array has
            another number of dimensions than ``ndim``.
    """
    opener = gzip.open if path.endswith('.gz') else open
    try:
        with opener(path, 'rb') as f:
            data = f.read()
    except (EOFError, OSError, zlib.error) as err:
        raise ValueError(
            f'{path} is a damaged or truncated gzip file ({err}); '
            'reinstall it (apt-get install --reinstall '
            'dataset-fashion-mnist)') from err
    zero, dtype, dims = struct.unpack('>HBB', data[:4].ljust(4, b'\xff'))
    if zero != 0 or dtype != 0x08 or len(data) < 4 + 4 * dims:
        raise ValueError(f'{path} is not an IDX file of unsigned bytes '
                         f'(header {data[:4]!r})')
    shape = struct.unpack('>' + 'I' * dims, data[4:4 + 4 * dims])
    expected = 4 + 4 * dims + int(np.prod(shape))
    if len(data) != expected:
        raise ValueError(
            f'{path} holds {len(data)} bytes but its header announces an '
            f'array of shape {shape} ({expected} bytes): the file is '
            f"{'truncated' if len(data) < expected else 'corrupt'}")
    if ndim is not None and dims != ndim:
        kind = {3: 'images (N, H, W)', 1: 'labels (N,)'}.get(ndim, f'{ndim}-D')
        raise ValueError(f'{path} should hold {kind} but holds an array of '
                         f'shape {shape}; is it the wrong file?')
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


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
        ndim = 3 if kind == 'images' else 1
        stem = f'{_PREFIX[self.split]}-{kind}-idx{ndim}-ubyte'
        for name in (stem + '.gz', stem):
            path = osp.join(self.data_root, name)
            if osp.isfile(path):
                return path
        raise FileNotFoundError(
            f'Fashion-MNIST {stem}[.gz] not found in data_root='
            f'{self.data_root!r}; install it with `apt-get install '
            'dataset-fashion-mnist` or point data_root at the IDX files')

    def load_data_list(self) -> List[dict]:
        images = read_idx(self._find('images'), ndim=3)
        labels = read_idx(self._find('labels'), ndim=1)
        if len(images) != len(labels):
            raise ValueError(f'{len(images)} images but {len(labels)} labels '
                             f'in {self.data_root}')
        return [
            dict(img=img, gt_label=int(label))
            for img, label in zip(images, labels)
        ]
