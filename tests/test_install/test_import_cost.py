"""``import mmsmmix`` pays only for what it registers.

A fresh interpreter imports mmsmmix; another imports the MMPretrain
packages our components build on. mmsmmix must load no heavy package of its
own (timm, mmseg, mmdet, matplotlib: imported inside the code that uses
them) and none of :mod:`mmsmmix.benchmarks`, and still register everything.
Where MMPretrain itself loads one of them (``mmpretrain.models`` imports
mmdet when it is installed, and mmdet imports matplotlib), no module of
ours may import it at import time either. The import time is a benchmark
(docs/benchmarks.md, "Import time"), not checked here.
"""
import ast
import importlib.util
import json
import os.path as osp
import subprocess
import sys

import pytest

from tests.helpers import REPO_ROOT

pytestmark = pytest.mark.slow

HEAVY = ('timm', 'mmseg', 'mmdet', 'matplotlib', 'mmsmmix.benchmarks')
MMPRETRAIN = ('mmpretrain.models, mmpretrain.datasets, mmpretrain.engine, '
              'mmpretrain.evaluation')

# The child's report: every module loaded, the files
# of ours, and what mmsmmix registered (its modules' names per registry).
REPORT = """
import json, sys
import {what}
report = dict(modules=sorted(sys.modules))
if 'mmsmmix' in sys.modules:
    import mmengine.config.utils as config_utils
    from mmpretrain import registry
    report['files'] = {{
        name: module.__file__ for name, module in sys.modules.items()
        if name.split('.')[0] == 'mmsmmix'
        and getattr(module, '__file__', None)}}
    report['registered'] = {{
        name: sorted(key for key, cls in getattr(
            registry, name).module_dict.items()
            if cls.__module__.startswith('mmsmmix.'))
        for name in ('MODELS', 'BATCH_AUGMENTS', 'DATASETS', 'TRANSFORMS',
                     'HOOKS', 'OPTIM_WRAPPERS', 'METRICS', 'LOOPS')}}
    report['config_package'] = config_utils.MODULE2PACKAGE.get('mmsmmix')
print(json.dumps(report))
"""


def _import_fresh(what: str) -> dict:
    proc = subprocess.run([sys.executable, '-c', REPORT.format(what=what)],
                          cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope='module')
def ours():
    return _import_fresh('mmsmmix')


@pytest.fixture(scope='module')
def mmpretrain_only():
    return _import_fresh(MMPRETRAIN)


def _loads(modules, package: str) -> bool:
    return any(m == package or m.startswith(package + '.') for m in modules)


def _top_level_imports(path: str, module: str):
    """The absolute names a module imports when it is imported: not those
    inside functions (deferred) or under ``if TYPE_CHECKING:``."""
    package = module if path.endswith('__init__.py') else \
        module.rpartition('.')[0]
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                             ast.Lambda)):
            continue
        if isinstance(node, ast.If) and 'TYPE_CHECKING' in ast.unparse(
                node.test):
            todo.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name(
                '.' * node.level + (node.module or ''), package) \
                if node.level else node.module
            yield base
            yield from (f'{base}.{alias.name}' for alias in node.names)
        todo.extend(ast.iter_child_nodes(node))


def test_no_heavy_package_of_our_own(ours, mmpretrain_only):
    for package in HEAVY:
        if _loads(ours['modules'], package):
            assert _loads(mmpretrain_only['modules'], package), (
                f'import mmsmmix loads {package}; importing MMPretrain '
                'alone does not')


def test_nothing_beyond_mmpretrain_but_ours_and_the_stdlib(
        ours, mmpretrain_only):
    extra = sorted(
        m for m in set(ours['modules']) - set(mmpretrain_only['modules'])
        if m.split('.')[0] not in sys.stdlib_module_names | {'mmsmmix'})
    assert extra == []


def test_our_modules_defer_heavy_imports(ours):
    """Also where MMPretrain already loaded the package (so sys.modules
    cannot tell): no module of ours imports it at import time."""
    assert ours['files']
    found = [
        (module, name) for module, path in sorted(ours['files'].items())
        for name in _top_level_imports(path, module)
        if any(name == p or name.startswith(p + '.') for p in HEAVY)
    ]
    assert found == []


def test_import_still_registers_everything(ours):
    assert ours['registered'] == {
        'MODELS': [
            'CaiT', 'DecoupledMixupLoss', 'MixImageClassifier',
            'PyramidVisionTransformerV1', 'PyramidVisionTransformerV2',
            'RankMixupLoss', 'SMMixClsHead', 'SMMixConsistencyLoss'
        ],
        'BATCH_AUGMENTS': ['FMix', 'MixPro', 'RankMixup', 'SMMix',
                           'TLAlign', 'TransMix'],
        'DATASETS': ['FashionMNISTIdx'],
        'TRANSFORMS': ['Corrupt'],
        'HOOKS': ['CompileHook', 'RandomStateHook'],
        'OPTIM_WRAPPERS': ['BFloat16AmpOptimWrapper'],
        'METRICS': ['ECE'],
        'LOOPS': ['CorruptionTestLoop', 'OcclusionTestLoop'],
    }
    assert ours['config_package'] == 'mmsmmix'
    assert osp.dirname(ours['files']['mmsmmix']) == osp.join(
        REPO_ROOT, 'mmsmmix')
