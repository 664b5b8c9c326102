"""Refuse a config whose dataset folders or files are missing, before work.

Without this, a missing ``data/imagenet`` surfaces as a long traceback from
inside the Runner once the dataloader is first built. Paths are joined as
mmengine's ``BaseDataset`` joins them (``ann_file`` and ``data_prefix``
under ``data_root`` unless absolute); relative paths are relative to the
current directory, as for the Runner.
"""
import os
import os.path as osp
from typing import Dict, Iterator, List, Sequence, Tuple

from .errors import UserError


class DataPathError(UserError, FileNotFoundError):
    """A dataset path of a config does not exist."""


def _dataset_paths(dataset, key: str) -> Iterator[Tuple[str, str, str]]:
    """``(config key, value as written, path to check)`` of every local
    path a dataset config reads, wrapped datasets included."""
    if not isinstance(dataset, dict):
        return
    if isinstance(dataset.get('dataset'), dict):
        yield from _dataset_paths(dataset['dataset'], f'{key}.dataset')
    for i, inner in enumerate(dataset.get('datasets') or []):
        yield from _dataset_paths(inner, f'{key}.datasets.{i}')
    root = dataset.get('data_root') or ''
    if root:
        yield f'{key}.data_root', root, root

    def under_root(path: str) -> str:
        return path if osp.isabs(path) or not root else osp.join(root, path)

    ann_file = dataset.get('ann_file')
    if ann_file:
        yield f'{key}.ann_file', ann_file, under_root(ann_file)
    prefix = dataset.get('data_prefix')
    items = {'': prefix} if isinstance(prefix, str) else (prefix or {})
    for name, value in items.items():
        if isinstance(value, str) and value:
            yield (f'{key}.data_prefix' + (f'.{name}' if name else ''),
                   value, under_root(value))


def check_data_paths(cfg, dataloaders: Sequence[str]) -> None:
    """Raise if a path the given dataloaders' datasets read is missing.

    Args:
        cfg (Config): The run's config.
        dataloaders (Sequence[str]): Top-level keys to check, e.g.
            ``('train_dataloader', 'val_dataloader')``; absent ones are
            skipped.

    Raises:
        DataPathError: One line naming the first missing path, where it was
            looked for, and the ``--cfg-options`` that set it (every key of
            these dataloaders holding the same value).
    """
    missing: Dict[str, List[Tuple[str, str]]] = {}  # in the order found
    checked = set()
    for loader in dataloaders:
        loader_cfg = cfg.get(loader)
        if not isinstance(loader_cfg, dict):
            continue
        for key, value, path in _dataset_paths(
                loader_cfg.get('dataset'), f'{loader}.dataset'):
            if '://' in path:  # a remote storage backend
                continue
            if path in checked and path not in missing:
                continue
            checked.add(path)
            # A missing data_root explains the paths under it.
            if any(path.startswith(m + os.sep) for m in missing):
                continue
            if not osp.exists(path):
                missing.setdefault(path, []).append((key, value))
    if not missing:
        return
    path = next(iter(missing))
    keys = missing[path]
    where = osp.abspath(path)
    relative = '' if osp.isabs(path) else (
        f', relative to the current directory {os.getcwd()}')
    options = ' '.join(f'{k}=...' for k, _ in keys)
    more = f' ({len(missing) - 1} more missing path(s) after it)' \
        if len(missing) > 1 else ''
    raise DataPathError(
        f'{keys[0][0]} = {keys[0][1]!r}: {where} does not exist{relative}. '
        f'Point the config at the dataset with --cfg-options {options}'
        f'{more}')
