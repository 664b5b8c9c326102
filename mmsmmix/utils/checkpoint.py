"""Load Runner checkpoints under torch>=2.6 without turning safe loading off.

torch>=2.6 unpickles with ``weights_only=True`` by default, and mmengine
0.10.7 does not pass ``weights_only``. A Runner checkpoint holds, besides
tensors, the ``message_hub`` (``HistoryBuffer`` objects with numpy arrays and
references to their statistic methods), so resume, ``load_from`` and
``tools/test.py`` fail. Instead of ``weights_only=False`` we allow exactly
those few globals, and replace ``getattr`` by a version that resolves only
``HistoryBuffer``'s registered statistic methods.
"""
import os

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader


def _history_buffer_method(owner, name):
    """Stand-in for ``getattr`` that resolves HistoryBuffer methods only."""
    allowed = {'min', 'max', 'current', 'mean'}
    allowed.update(HistoryBuffer._statistics_methods)
    if owner is HistoryBuffer and name in allowed:
        return getattr(owner, name)
    raise torch.serialization.pickle.UnpicklingError(
        f'refusing getattr({owner!r}, {name!r}) in a checkpoint')


SAFE_GLOBALS = [
    HistoryBuffer,
    np.ndarray,
    np.dtype,
    np._core.multiarray._reconstruct,
    np._core.multiarray.scalar,
    (_history_buffer_method, '__builtin__.getattr'),
    (_history_buffer_method, 'builtins.getattr'),
] + [type(np.dtype(t)) for t in 'bBhHiIlLqQefdgFD?']


@CheckpointLoader.register_scheme(prefixes='', force=True)
def load_local_checkpoint(filename: str, map_location=None) -> dict:
    """mmengine's local-file loader with ``weights_only=True`` kept on.

    Args:
        filename (str): Path of a checkpoint file.
        map_location (str, optional): Passed to ``torch.load``.

    Returns:
        dict: The loaded checkpoint.
    """
    filename = os.path.expanduser(filename)
    if not os.path.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    with torch.serialization.safe_globals(SAFE_GLOBALS):
        return torch.load(
            filename, map_location=map_location, weights_only=True)
