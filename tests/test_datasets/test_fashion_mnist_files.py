"""FashionMNISTIdx on hand-written IDX files: good ones load, malformed ones
fail with a message that names the file and what was expected."""
import gzip
import struct

import numpy as np
import pytest

from mmsmmix.datasets import FashionMNISTIdx, read_idx


def _idx(array: np.ndarray) -> bytes:
    """IDX bytes of a uint8 array, written by hand from the format."""
    header = struct.pack('>HBB', 0, 0x08, array.ndim)
    header += struct.pack('>' + 'I' * array.ndim, *array.shape)
    return header + array.astype(np.uint8).tobytes()


IMAGES = np.arange(3 * 28 * 28).reshape(3, 28, 28) % 256
LABELS = np.array([7, 0, 3])


def _write(root, images=_idx(IMAGES), labels=_idx(LABELS), gz=True):
    for kind, data in (('images-idx3', images), ('labels-idx1', labels)):
        path = root / f't10k-{kind}-ubyte'
        if gz:
            path = path.with_name(path.name + '.gz')
            data = gzip.compress(data)
        path.write_bytes(data)
    return root / ('t10k-images-idx3-ubyte' + ('.gz' if gz else ''))


@pytest.mark.parametrize('gz', [True, False])
def test_hand_written_files_load(tmp_path, gz):
    _write(tmp_path, gz=gz)
    dataset = FashionMNISTIdx(data_root=str(tmp_path), split='test')
    assert len(dataset) == 3
    assert [dataset[i]['gt_label'] for i in range(3)] == [7, 0, 3]
    assert np.array_equal(dataset[1]['img'], IMAGES[1])


def _error(tmp_path) -> str:
    with pytest.raises(ValueError) as err:
        FashionMNISTIdx(data_root=str(tmp_path), split='test')
    return str(err.value)


def test_corrupted_gzip(tmp_path):
    path = _write(tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2:len(data) // 2 + 8] = b'\x00' * 8  # damage deflate
    path.write_bytes(bytes(data))
    msg = _error(tmp_path)
    assert str(path) in msg and 'damaged or truncated gzip' in msg


def test_truncated_gzip(tmp_path):
    path = _write(tmp_path)
    path.write_bytes(path.read_bytes()[:-40])
    msg = _error(tmp_path)
    assert str(path) in msg and 'damaged or truncated gzip' in msg


def test_truncated_raw_idx(tmp_path):
    path = _write(tmp_path, images=_idx(IMAGES)[:-100], gz=False)
    msg = _error(tmp_path)
    assert str(path) in msg and 'truncated' in msg
    assert '(3, 28, 28)' in msg and f'{4 + 12 + 3 * 784 - 100} bytes' in msg


def test_labels_file_in_place_of_images(tmp_path):
    path = _write(tmp_path, images=_idx(LABELS))
    msg = _error(tmp_path)
    assert str(path) in msg
    assert 'should hold images (N, H, W)' in msg and '(3,)' in msg


def test_not_an_idx_file(tmp_path):
    path = tmp_path / 'x.idx'
    path.write_bytes(b'P5\n28 28\n255\n')
    with pytest.raises(ValueError, match='not an IDX file of unsigned'):
        read_idx(str(path))
