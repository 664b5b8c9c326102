"""The console scripts: each runs its tool from the installed package's
``.mim/tools`` (or a checkout's ``tools/``), as ``python TOOL ARGS`` would.

``mmsmmix-train``, ``mmsmmix-test``, ``mmsmmix-compare`` and
``mmsmmix-convert {smmix,dense}`` (the official-checkpoint converter and the
dense-backbone export).
"""
import importlib.util
import os.path as osp
import runpy
import sys
from typing import List, Optional

from . import errors

#: mmsmmix-convert's subcommands -> tools/model_converters/ scripts
CONVERTERS = {
    'smmix': 'smmix2mmsmmix.py',
    'dense': 'mmsmmix2dense.py',
}


def tools_dir() -> str:
    """The tools of the installed ``mmsmmix`` (found, not imported)."""
    spec = importlib.util.find_spec('mmsmmix')
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit('mmsmmix is not installed in this environment')
    package = list(spec.submodule_search_locations)[0]
    mim = osp.join(package, '.mim', 'tools')
    return mim if osp.isdir(mim) else osp.join(osp.dirname(package), 'tools')


def run_tool(relative: str, argv: Optional[List[str]] = None,
             prog: Optional[str] = None) -> None:
    """Run the tool ``tools/<relative>`` as ``__main__`` with ``argv``."""
    path = osp.join(tools_dir(), relative)
    errors.invoked_as = prog or osp.basename(sys.argv[0])
    sys.argv = [errors.invoked_as,
                *(sys.argv[1:] if argv is None else argv)]
    sys.path.insert(0, osp.dirname(path))
    runpy.run_path(path, run_name='__main__')


def train() -> None:
    run_tool('train.py')


def test() -> None:
    run_tool('test.py')


def compare() -> None:
    run_tool(osp.join('benchmark', 'compare_mixing.py'))


def convert() -> None:
    argv = sys.argv[1:]
    if not argv or argv[0] not in CONVERTERS or argv[0] in ('-h', '--help'):
        names = ', '.join(CONVERTERS)
        print(f'usage: mmsmmix-convert {{{names}}} ARGS ...\n'
              '  smmix: an official SMMix release checkpoint -> ours\n'
              '  dense: our classifier weights -> an mmseg/mmdet/timm '
              'backbone\n'
              '`mmsmmix-convert NAME --help` for the arguments.',
              file=sys.stderr if argv and argv[0] not in ('-h', '--help')
              else sys.stdout)
        raise SystemExit(0 if argv and argv[0] in ('-h', '--help') else 2)
    run_tool(osp.join('model_converters', CONVERTERS[argv[0]]), argv[1:],
             prog=f'mmsmmix-convert {argv[0]}')
