"""Old import paths of moved modules, kept working for one release.

Importing a module by its old path warns (``DeprecationWarning``, naming
the new path) and gives the module at its new path: the same object, so
what is patched or registered through one name is seen through the other.
A name under a moved package maps to the same name under its new package
(``mmsmmix.evaluation.comparison.run`` ->
``mmsmmix.benchmarks.comparison.run``).
"""
import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from typing import Optional

# Removed in this release (docs/changelog.md).
REMOVED_IN = '0.3.0'

# old dotted path -> new dotted path (0.2.0: evaluation and benchmarks
# split, the compile wrapper beside its hook, robustness in one place)
MOVED = {
    'mmsmmix.evaluation.comparison': 'mmsmmix.benchmarks.comparison',
    'mmsmmix.evaluation.compile_timing': 'mmsmmix.benchmarks.compile_timing',
    'mmsmmix.evaluation.cuda_check': 'mmsmmix.benchmarks.cuda_check',
    'mmsmmix.evaluation.motivating_pass':
    'mmsmmix.benchmarks.motivating_pass',
    'mmsmmix.evaluation.smmix_pairs': 'mmsmmix.benchmarks.smmix_pairs',
    'mmsmmix.evaluation.step_time': 'mmsmmix.benchmarks.step_time',
    'mmsmmix.evaluation.timing': 'mmsmmix.benchmarks.timing',
    'mmsmmix.ops.corruptions': 'mmsmmix.evaluation.robustness.corruptions',
    'mmsmmix.datasets.transforms': 'mmsmmix.evaluation.robustness',
    'mmsmmix.models.classifiers.compiled_forward':
    'mmsmmix.engine.compiled_forward',
}

# names that left a package's namespace: package -> {name: new package}
MOVED_NAMES = {
    'mmsmmix.datasets': {
        'Corrupt': 'mmsmmix.evaluation.robustness'
    },
    'mmsmmix.evaluation.robustness': {
        'add_robustness_args': 'mmsmmix_cli'
    },
    'mmsmmix.utils.runner_args': {
        'add_runner_args': 'mmsmmix_cli'
    },
    'mmsmmix.models.classifiers': {
        'CompiledForward': 'mmsmmix.engine',
        'compile_forwards': 'mmsmmix.engine'
    },
}


def new_name(name: str) -> Optional[str]:
    """The current dotted path of the module once called ``name``, or None
    when ``name`` did not move."""
    for old in sorted(MOVED, key=len, reverse=True):
        if name == old or name.startswith(old + '.'):
            return MOVED[old] + name[len(old):]
    return None


def warn_moved(old: str, new: str, stacklevel: int = 3) -> None:
    """Warn that ``old`` (a module or a name) is now ``new``."""
    warnings.warn(
        f'{old} moved to {new}; the old path is removed in mmsmmix '
        f'{REMOVED_IN}', DeprecationWarning, stacklevel=stacklevel)


def moved_attribute(package: str, name: str):
    """``package.name`` from its new package, with a warning; for a
    package's module-level ``__getattr__``."""
    new = MOVED_NAMES.get(package, {}).get(name)
    if new is None:
        raise AttributeError(
            f'module {package!r} has no attribute {name!r}')
    warn_moved(f'{package}.{name}', f'{new}.{name}', stacklevel=4)
    return getattr(importlib.import_module(new), name)


class _MovedLoader(importlib.abc.Loader):
    """Puts the module at its new path into ``sys.modules`` under the old
    name (the import system then hands that module to the importer)."""

    def __init__(self, new: str):
        self.new = new

    def create_module(self, spec):
        return None

    def exec_module(self, module) -> None:
        old = module.__name__
        # past this frame, the import system's own frames are skipped
        warn_moved(old, self.new, stacklevel=3)
        sys.modules[old] = importlib.import_module(self.new)


class MovedModuleFinder(importlib.abc.MetaPathFinder):
    """Finds the old paths of :data:`MOVED` (first on ``sys.meta_path``)."""

    def find_spec(self, fullname, path=None, target=None):
        new = new_name(fullname)
        if new is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _MovedLoader(new))


def install_moved_module_finder() -> None:
    """Let the old import paths resolve (idempotent)."""
    if not any(isinstance(f, MovedModuleFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, MovedModuleFinder())
