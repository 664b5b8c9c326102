"""The command-line layer of mmsmmix: what every tool does before it imports
torch, OpenMMLab or the package.

Standard library only (mmengine's ``DictAction`` is imported where a parser
needs it: it does not import torch), so that ``--help`` and argument errors
answer at once. Importing it quiets the dependency warnings a user cannot
act on (:func:`quiet_dependency_warnings`); it is imported by our tools and
console scripts only, never by the package.

- :func:`run`: a tool's ``main`` with the user's mistakes as one line and
  exit status 2;
- :func:`add_runner_args`, :func:`add_debug_arg`: options shared by tools;
- :mod:`mmsmmix_cli.commands`: the console scripts (``mmsmmix-train``,
  ``mmsmmix-test``, ``mmsmmix-convert``, ``mmsmmix-compare``).
"""
from .args import add_debug_arg, add_robustness_args, add_runner_args
from .errors import DEBUG_ENV, prog_name, run
from .quiet import quiet_dependency_warnings

quiet_dependency_warnings()

__all__ = [
    'DEBUG_ENV', 'add_debug_arg', 'add_robustness_args', 'add_runner_args',
    'prog_name', 'quiet_dependency_warnings', 'run'
]
