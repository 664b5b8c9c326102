"""Random states survive a checkpoint: a restored stream or global
generator continues with exactly the draws the original would make."""
import io
import random

import numpy as np
import pytest
import torch

from mmsmmix.utils import SyncedRandom, global_rng_state, set_global_rng_state


def _through_checkpoint(obj):
    """Save and load as a checkpoint is (weights_only, no allow-list)."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def test_synced_stream_continues_after_restore():
    stream = SyncedRandom(seed=7, stream='SMMix')
    [stream.random() for _ in range(5)]
    state = _through_checkpoint(stream.state_dict())
    expected = [stream.random(), stream.beta(0.8), stream.choice([3, 4, 5])]
    restored = SyncedRandom(seed=123, stream='SMMix')  # seed is overridden
    restored.load_state_dict(state)
    assert [restored.random(), restored.beta(0.8),
            restored.choice([3, 4, 5])] == expected


def test_unused_stream_saves_no_state_and_stays_lazy():
    stream = SyncedRandom(seed=7, stream='a')
    assert stream.state_dict() == dict(stream='a', state=None)
    stream.random()
    stream.load_state_dict(dict(stream='a', state=None))
    assert stream.random() == SyncedRandom(seed=7, stream='a').random()


def test_state_of_another_stream_is_refused():
    with pytest.raises(ValueError, match="stream 'a' given to stream 'b'"):
        SyncedRandom(stream='b').load_state_dict(
            SyncedRandom(seed=1, stream='a').state_dict())


def test_global_generators_continue_after_restore():
    random.seed(1)
    np.random.seed(2)
    torch.manual_seed(3)
    state = _through_checkpoint(global_rng_state())

    def draws():
        return (random.random(), np.random.rand(), np.random.randn(),
                torch.rand(2).tolist())

    expected = draws()
    [draws() for _ in range(3)]  # move every generator on
    set_global_rng_state(state)
    assert draws() == expected
