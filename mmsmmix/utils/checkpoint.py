"""Load checkpoints safely, with clear errors, and check that they fit.

torch>=2.6 unpickles with ``weights_only=True`` by default, and mmengine
0.10.7 does not pass ``weights_only``. A Runner checkpoint holds, besides
tensors, the ``message_hub`` (``HistoryBuffer`` objects with numpy arrays and
references to their statistic methods), so resume, ``load_from`` and
``tools/test.py`` fail. Instead of ``weights_only=False`` we allow exactly
those few globals, and replace ``getattr`` by a version that resolves only
``HistoryBuffer``'s registered statistic methods.
"""
import argparse
import os
import pickle
import re
import zipfile
from typing import Tuple

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, MMLogger
from mmengine.runner.checkpoint import CheckpointLoader

from .errors import UserError


def _history_buffer_method(owner, name):
    """Stand-in for ``getattr`` that resolves HistoryBuffer methods only."""
    allowed = {'min', 'max', 'current', 'mean'}
    allowed.update(HistoryBuffer._statistics_methods)
    if owner is HistoryBuffer and name in allowed:
        return getattr(owner, name)
    raise torch.serialization.pickle.UnpicklingError(
        f'refusing getattr({owner!r}, {name!r}) in a checkpoint')


# numpy 2 moved numpy.core to numpy._core (and pickles under that name).
_multiarray = (np._core if hasattr(np, '_core') else np.core).multiarray
SAFE_GLOBALS = [
    HistoryBuffer,
    np.ndarray,
    np.dtype,
    _multiarray._reconstruct,
    _multiarray.scalar,
    (_history_buffer_method, '__builtin__.getattr'),
    (_history_buffer_method, 'builtins.getattr'),
] + [type(np.dtype(t)) for t in 'bBhHiIlLqQefdgFD?']


class CheckpointFileError(UserError, ValueError):
    """A file given as a checkpoint is empty, truncated or not one."""


class CheckpointNotFoundError(UserError, FileNotFoundError):
    """A checkpoint path names no file."""


#: The converter of official SMMix releases, as installed (console script;
#: tools/model_converters/smmix2mmsmmix.py in a clone, mim run mmsmmix
#: smmix2mmsmmix with OpenMIM).
CONVERTER = 'mmsmmix-convert smmix'
# The key of the first block of each official SMMix model (``model`` of a
# release file): architecture -> key.
OFFICIAL_KEYS = {
    'deit': 'blocks.0.attn.qkv.weight',
    'pvt': 'block1.0.attn.q.weight',
}


def official_release_hint(filename: str, checkpoint) -> str:
    """A sentence naming the converter if ``checkpoint`` is an official
    SMMix release (``model`` in timm / PVT-v1 names), else ''."""
    model = checkpoint.get('model') if isinstance(checkpoint, dict) else None
    if isinstance(model, dict) and any(
            k in model for k in OFFICIAL_KEYS.values()):
        return (f'{filename} is an official SMMix release checkpoint; '
                f'convert it first: {CONVERTER} {filename} converted.pth')
    return ''


def _refuse_official_release(filename: str, err: Exception) -> None:
    """Raise naming the converter if a weights-only load failed on the
    official releases' ``args`` (an ``argparse.Namespace``)."""
    if 'argparse.Namespace' not in str(err):
        return
    with torch.serialization.safe_globals(SAFE_GLOBALS +
                                          [argparse.Namespace]):
        checkpoint = torch.load(filename, map_location='cpu',
                                weights_only=True)
    hint = official_release_hint(filename, checkpoint)
    if hint:
        raise CheckpointFileError(hint) from err


def _check_checkpoint_file(filename: str) -> None:
    """Refuse files that cannot be a torch checkpoint, saying why."""
    with open(filename, 'rb') as f:
        head = f.read(8)
    if not head:
        raise CheckpointFileError(f'{filename} is empty (0 bytes), not a '
                                  'checkpoint; was it cut off while saving?')
    if head.startswith(b'PK'):
        if not zipfile.is_zipfile(filename):
            raise CheckpointFileError(
                f'{filename} is a truncated or damaged checkpoint: its zip '
                'archive has no central directory (cut off while saving or '
                'copying?)')
    elif head[0] != 0x80:  # neither torch's zip format nor a pickle
        raise CheckpointFileError(
            f'{filename} is not a PyTorch checkpoint (it starts with '
            f'{head!r}; expected a file written by torch.save)')


def check_checkpoint_file(filename: str):
    """Load the checkpoint ``filename`` once, to refuse a missing, damaged
    or unconverted one (:func:`load_local_checkpoint`'s errors) before a
    tool builds anything.

    Returns:
        The loaded checkpoint (for :func:`load_weights`, which then does
        not read the file again).
    """
    return load_local_checkpoint(filename, map_location='cpu')


@CheckpointLoader.register_scheme(prefixes='', force=True)
def load_local_checkpoint(filename: str, map_location=None) -> dict:
    """mmengine's local-file loader with ``weights_only=True`` kept on.

    Args:
        filename (str): Path of a checkpoint file.
        map_location (str, optional): Passed to ``torch.load``.

    Returns:
        dict: The loaded checkpoint.

    Raises:
        FileNotFoundError: If there is no such file.
        CheckpointFileError: If the file is empty, truncated or damaged,
            not written by ``torch.save``, or an official SMMix release
            (naming the converter).
    """
    filename = os.path.expanduser(filename)
    if not os.path.isfile(filename):
        raise CheckpointNotFoundError(
            f'checkpoint {filename} not found (looked for '
            f'{os.path.abspath(filename)})')
    _check_checkpoint_file(filename)
    try:
        with torch.serialization.safe_globals(SAFE_GLOBALS):
            return torch.load(
                filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        _refuse_official_release(filename, err)
        raise
    except (EOFError, RuntimeError, zipfile.BadZipFile) as err:
        reason = str(err).splitlines()[0] if str(err) else 'ends early'
        raise CheckpointFileError(
            f'{filename} is a truncated or damaged checkpoint '
            f'({type(err).__name__}: {reason})') from err


class CheckpointMismatchError(UserError, ValueError):
    """A checkpoint's weights do not fit the model they are loaded into."""


def _model_state_dict(checkpoint: dict) -> dict:
    """The weights of a Runner checkpoint (or a bare state dict), with any
    DDP ``module.`` prefix removed."""
    state_dict = checkpoint.get('state_dict', checkpoint)
    return {re.sub(r'^module\.', '', k): v for k, v in state_dict.items()}


def state_dict_mismatch(model: torch.nn.Module,
                        state_dict: dict) -> Tuple[list, list, list]:
    """Compare a state dict with a model's own.

    Args:
        model (nn.Module): The model to load into.
        state_dict (dict): Name -> tensor.

    Returns:
        tuple[list, list, list]: Missing keys, unexpected keys, and
        ``(key, checkpoint shape, model shape)`` of mis-shaped ones.
    """
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    misshaped = [(k, tuple(v.shape), tuple(own[k].shape))
                 for k, v in state_dict.items()
                 if k in own and tuple(v.shape) != tuple(own[k].shape)]
    return missing, unexpected, misshaped


def describe_mismatch(model: torch.nn.Module, state_dict: dict,
                      shown: int = 3) -> str:
    """What keeps ``state_dict`` from fitting ``model`` exactly, in words
    ('' if it fits): the first ``shown`` mis-shaped, missing and unexpected
    keys and how many there are."""
    missing, unexpected, misshaped = state_dict_mismatch(model, state_dict)
    problems = []
    if misshaped:
        problems.append(f'{len(misshaped)} mis-shaped (' + ', '.join(
            f'{k}: checkpoint {list(c)} vs model {list(m)}'
            for k, c, m in misshaped[:shown]) + ')')
    for what, keys in (('missing from the checkpoint', missing),
                       ('unexpected', unexpected)):
        if keys:
            problems.append(f'{len(keys)} {what} (' +
                            ', '.join(keys[:shown]) +
                            (', ...' if len(keys) > shown else '') + ')')
    return '; '.join(problems)


def check_checkpoint_fits(model: torch.nn.Module,
                          checkpoint: dict,
                          source: str,
                          hint: str = '',
                          shown: int = 3) -> None:
    """Raise unless every weight of ``checkpoint`` fits ``model`` exactly.

    Args:
        model (nn.Module): The model built from the config.
        checkpoint (dict): A Runner checkpoint or a bare state dict.
        source (str): What to call the checkpoint in the message (a path).
        hint (str): A last sentence saying what to do instead.
        shown (int): How many keys of each kind the message names.

    Raises:
        CheckpointMismatchError: Naming the first ``shown`` missing,
            unexpected and mis-shaped keys and how many there are.
    """
    problems = describe_mismatch(model, _model_state_dict(checkpoint), shown)
    if problems:
        raise CheckpointMismatchError(
            f"{source} does not fit the config's model: {problems}" +
            (f'. {hint}' if hint else ''))


def count_numbered(state_dict: dict, pattern: str) -> int:
    r"""How many numbered blocks a state dict holds: one more than the
    largest index matched by ``pattern``'s first group (0 if none), e.g.
    ``count_numbered(sd, r'^blocks\.(\d+)\.')``."""
    indices = {int(m.group(1)) for k in state_dict
               for m in [re.match(pattern, k)] if m}
    return max(indices) + 1 if indices else 0


def load_weights(model: torch.nn.Module,
                 filename: str,
                 allow_partial: bool = False,
                 logger=None,
                 checkpoint=None) -> dict:
    """Load a checkpoint's weights for evaluation, strictly by default.

    Args:
        model (nn.Module): The model built from the config.
        filename (str): A Runner checkpoint or a saved state dict.
        allow_partial (bool): Load the weights that fit and warn about the
            rest instead of raising. Defaults to False.
        logger (logging.Logger, optional): Where the partial-load warning
            goes; mmengine's current logger if None.
        checkpoint (optional): ``filename`` as :func:`check_checkpoint_file`
            already loaded it (not read again); None reads the file.

    Returns:
        dict: The checkpoint as loaded.

    Raises:
        CheckpointMismatchError: If the weights do not fit (and
            ``allow_partial`` is False).
    """
    if checkpoint is None:
        checkpoint = load_local_checkpoint(filename, map_location='cpu')
    if not isinstance(checkpoint, dict):
        raise CheckpointMismatchError(
            f'{filename} holds a {type(checkpoint).__name__}, not a '
            'checkpoint dict or a state dict')
    hint = official_release_hint(filename, checkpoint)
    if hint:
        raise CheckpointMismatchError(hint)
    state_dict = _model_state_dict(checkpoint)
    try:
        check_checkpoint_fits(model, state_dict, filename,
                              hint='Pass --allow-partial to load only the '
                              'weights that fit')
    except CheckpointMismatchError as err:
        if not allow_partial:
            raise
        (logger or MMLogger.get_current_instance()).warning(
            f'partial load: {err}')
        _, _, misshaped = state_dict_mismatch(model, state_dict)
        for key, _, _ in misshaped:
            del state_dict[key]
    model.load_state_dict(state_dict, strict=False)
    return checkpoint
