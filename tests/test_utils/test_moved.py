"""The old import paths of moved modules: they warn, naming the new path,
and give the very module at the new path; nothing of ours still uses
them."""
import importlib
import os
import os.path as osp
import re
import sys

import pytest

from mmsmmix.utils.moved import MOVED, MOVED_NAMES, new_name
from tests.helpers import REPO_ROOT


def _import_fresh(name):
    """``import name`` as an import statement does it."""
    sys.modules.pop(name, None)
    __import__(name)
    return sys.modules[name]


@pytest.mark.parametrize('old', sorted(MOVED))
def test_old_module_path_warns_and_gives_the_new_module(old):
    new = importlib.import_module(MOVED[old])
    with pytest.warns(DeprecationWarning) as record:
        module = _import_fresh(old)
    assert module is new
    message = str(record[0].message)
    assert old in message and MOVED[old] in message
    # attributed to the importer (this file), not to the import machinery
    assert record[0].filename == __file__


def test_a_module_under_a_moved_package():
    old = 'mmsmmix.evaluation.comparison.workers'
    with pytest.warns(DeprecationWarning, match='benchmarks.comparison'):
        module = _import_fresh(old)
    assert module is importlib.import_module(
        'mmsmmix.benchmarks.comparison.workers')
    assert new_name('mmsmmix.evaluation.calibration') is None
    assert new_name('mmsmmix.evaluation.comparisons') is None


@pytest.mark.parametrize('package,name', [(package, name)
                                          for package in sorted(MOVED_NAMES)
                                          for name in MOVED_NAMES[package]])
def test_old_names_in_a_package_namespace(package, name):
    module = importlib.import_module(package)
    with pytest.warns(DeprecationWarning, match=name):
        value = getattr(module, name)
    new = importlib.import_module(MOVED_NAMES[package][name])
    assert value is getattr(new, name)
    with pytest.raises(AttributeError, match='no_such_name'):
        getattr(module, 'no_such_name')


def test_nothing_of_ours_uses_an_old_path():
    """Package, tools, configs, tests and docs name the new paths (the old
    ones only in the table of moved paths and in the changelog)."""
    # as parent package + name, for `from parent import (..., name)`
    names = [(p, n) for p in MOVED_NAMES for n in MOVED_NAMES[p]]
    names += [tuple(old.rsplit('.', 1)) for old in MOVED]
    olds = list(MOVED) + [f'{p}.{n}' for p, n in names]
    olds += [o.replace('.', '/') for o in olds]
    found = []
    for top in ('mmsmmix', 'tools', 'configs', 'tests', 'docs'):
        for folder, dirs, files in os.walk(osp.join(REPO_ROOT, top)):
            dirs[:] = [d for d in dirs if d not in ('_build', '.mim')]
            for file in files:
                path = osp.join(folder, file)
                if not file.endswith(('.py', '.md', '.sh')) or path in (
                        osp.join(REPO_ROOT, 'mmsmmix', 'utils', 'moved.py'),
                        osp.join(REPO_ROOT, 'docs', 'changelog.md'),
                        __file__):
                    continue
                with open(path, encoding='utf-8') as f:
                    text = f.read()
                found += [(path, o) for o in olds
                          if o in text and not _only_longer(text, o)]
                found += [(path, f'from {p} import {n}')
                          for p, n in names if re.search(
                              rf'from {re.escape(p)} import (\([^)]*|[^(\n]*)'
                              rf'\b{n}\b', text)]
    assert not found


def _only_longer(text: str, old: str) -> bool:
    """Whether every occurrence of ``old`` is the start of a longer name
    that did not move (``mmsmmix.datasets.transforms`` is not a prefix of
    anything current, but ``mmsmmix.evaluation.timing`` would be of
    ``mmsmmix.evaluation.timings``)."""
    start = text.find(old)
    while start != -1:
        after = text[start + len(old):start + len(old) + 1]
        if not (after.isalnum() or after == '_'):
            return False
        start = text.find(old, start + 1)
    return True
