"""Checkpoint files: safe loading refuses what is not a checkpoint with a
message naming the file, and weights that do not fit the model are
refused with the first keys named."""
import pytest
import torch
from torch import nn

from mmsmmix.utils import (CheckpointFileError, CheckpointMismatchError,
                           load_local_checkpoint, load_weights)


def _saved(tmp_path, obj, **kwargs):
    path = tmp_path / 'ckpt.pth'
    torch.save(obj, path, **kwargs)
    return path


@pytest.mark.parametrize('legacy', [False, True])
def test_good_checkpoint_loads(tmp_path, legacy):
    path = _saved(tmp_path, {'state_dict': {'w': torch.ones(2)}},
                  _use_new_zipfile_serialization=not legacy)
    assert torch.equal(load_local_checkpoint(str(path))['state_dict']['w'],
                       torch.ones(2))


@pytest.mark.parametrize('make,message', [
    (lambda data: b'', 'is empty (0 bytes)'),
    (lambda data: b'epoch 3 loss 0.1\n', "is not a PyTorch checkpoint (it "
     "starts with b'epoch 3 '"),
    (lambda data: data[:len(data) // 2],
     'is a truncated or damaged checkpoint: '
     'its zip archive has no central directory'),
])
def test_bad_files_are_named(tmp_path, make, message):
    data = _saved(tmp_path, {'w': torch.ones(100)}).read_bytes()
    path = tmp_path / 'bad.pth'
    path.write_bytes(make(data))
    with pytest.raises(CheckpointFileError) as err:
        load_local_checkpoint(str(path))
    assert str(err.value).startswith(f'{path} {message}')


def test_truncated_legacy_checkpoint(tmp_path):
    data = _saved(tmp_path, {'w': torch.ones(100)},
                  _use_new_zipfile_serialization=False).read_bytes()
    path = tmp_path / 'bad.pth'
    path.write_bytes(data[:60])
    with pytest.raises(CheckpointFileError, match='truncated or damaged'):
        load_local_checkpoint(str(path))


class Net(nn.Module):

    def __init__(self, classes=10):
        super().__init__()
        self.body = nn.Linear(4, 8)
        self.head = nn.Linear(8, classes)


def test_weights_of_another_model_are_refused(tmp_path):
    state = Net(classes=5).state_dict()
    state['extra.weight'] = torch.zeros(1)
    del state['body.bias']
    path = _saved(tmp_path, {'state_dict': state})
    model = Net()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(CheckpointMismatchError) as err:
        load_weights(model, str(path))
    assert str(err.value) == (
        f"{path} does not fit the config's model: 2 mis-shaped "
        '(head.weight: checkpoint [5, 8] vs model [10, 8], head.bias: '
        'checkpoint [5] vs model [10]); 1 missing from the checkpoint '
        '(body.bias); 1 unexpected (extra.weight). Pass --allow-partial to '
        'load only the weights that fit')
    assert all(torch.equal(before[k], v)
               for k, v in model.state_dict().items())

    # Partial: what fits is loaded, the rest keeps its value.
    load_weights(model, str(path), allow_partial=True)
    assert torch.equal(model.body.weight, state['body.weight'])
    assert torch.equal(model.head.weight, before['head.weight'])


def test_ddp_prefix_is_accepted(tmp_path):
    source = Net()
    path = _saved(tmp_path, {
        'state_dict': {f'module.{k}': v
                       for k, v in source.state_dict().items()}
    })
    model = Net()
    load_weights(model, str(path))
    assert torch.equal(model.head.weight, source.head.weight)
