"""Gather every wheel mmsmmix needs, except torch/torchvision, for offline
installs.

Builds the mmsmmix wheel from this checkout, resolves ``mmsmmix[EXTRAS]``
with pip for the target Python and platform (``--constraint``s honoured),
and downloads every resolved wheel reachable from mmsmmix without passing
through torch or torchvision (what only torch needs comes with the
environment's torch). On the offline machine, with torch installed:

    pip install --no-index --find-links wheelhouse "mmsmmix[lite]"

Example:
    python tools/misc/wheelhouse.py wheelhouse
    python tools/misc/wheelhouse.py wheelhouse --python-version 3.12 \
        --platform manylinux_2_28_x86_64
    python tools/misc/wheelhouse.py dist --wheel-only --sdist
"""
import argparse
import glob
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import tempfile

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# What the wheel is built from (the rest of a checkout stays out of it).
# mmsmmix_cli: the console scripts' package (setup.py's entry points).
SOURCES = ('setup.py', 'MANIFEST.in', 'README.md', 'model-index.yml',
           'requirements', 'mmsmmix', 'mmsmmix_cli', 'configs', 'tools')
# The environment's own: never downloaded, never traversed.
PROVIDED = ('torch', 'torchvision')


def build_wheel(repo: str,
                dest: str,
                python: str = sys.executable,
                sdist: bool = False) -> str:
    """Build the mmsmmix wheel from a copy of the checkout ``repo`` into
    ``dest``.

    A copy, because setup.py writes ``mmsmmix/.mim`` copies and ``build/``
    beside the sources; the checkout keeps its editable links. With
    ``sdist``, the source distribution is written to ``dest`` too and the
    wheel is built from it (as pip builds one from an sdist).

    ``dest`` may be relative (to the working directory): it is made
    absolute first, because the sdist is built in the copy's directory.

    Returns:
        str: The wheel's path (absolute).
    """
    dest = osp.abspath(dest)
    os.makedirs(dest, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        src = osp.join(tmp, 'mmsmmix-src')
        os.makedirs(src)
        for name in SOURCES:
            path = osp.join(repo, name)
            if osp.isdir(path):
                shutil.copytree(
                    path,
                    osp.join(src, name),
                    ignore=shutil.ignore_patterns('__pycache__', '.mim',
                                                  '*.pyc'))
            else:
                shutil.copy(path, src)
        for old in glob.glob(osp.join(dest, 'mmsmmix-*')):
            os.remove(old)
        if sdist:
            subprocess.run([python, 'setup.py', '-q', 'sdist', '-d', dest],
                           cwd=src, check=True)
            (src, ) = glob.glob(osp.join(dest, 'mmsmmix-*.tar.gz'))
        subprocess.run([
            python, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation',
            '-q', src, '-w', dest
        ], check=True)
    wheels = glob.glob(osp.join(dest, 'mmsmmix-*.whl'))
    assert len(wheels) == 1, wheels
    return wheels[0]


LEGACY_MANYLINUX = {'manylinux2014': (2, 17), 'manylinux2010': (2, 12),
                    'manylinux1': (2, 5)}


def platform_tags(platform: str) -> list:
    """A manylinux platform and every older one it runs (pip does this for
    its own machine, not for ``--platform``): ``manylinux_2_28_x86_64`` ->
    ``manylinux_2_28_x86_64``, ..., ``manylinux2014_x86_64``, ...,
    ``manylinux1_x86_64``. Other platforms are returned as given."""
    name, _, arch = platform.partition('_')
    if name in LEGACY_MANYLINUX:
        glibc = LEGACY_MANYLINUX[name]
    elif name == 'manylinux' and arch.count('_') >= 2:
        major, minor, arch = arch.split('_', 2)
        glibc = (int(major), int(minor))
    else:
        return [platform]
    tags = [f'manylinux_{glibc[0]}_{m}_{arch}'
            for m in range(glibc[1], 4, -1)]
    tags += [f'{legacy}_{arch}' for legacy, (_, m) in
             LEGACY_MANYLINUX.items() if m <= glibc[1]]
    return tags


def target_options(python_version, platform) -> list:
    """pip's options for another interpreter / platform ('' = this one)."""
    if not python_version and not platform:
        return []
    options = ['--only-binary=:all:', '--implementation', 'cp']
    if python_version:
        options += ['--python-version', python_version]
    for tag in platform_tags(platform) if platform else []:
        options += ['--platform', tag]
    return options


def marker_environment(python_version, platform) -> dict:
    """The marker values of the target interpreter."""
    env = default_environment()
    if python_version:
        env['python_version'] = python_version
        env['python_full_version'] = python_version + '.0'
    if platform:
        for machine in ('x86_64', 'aarch64', 'arm64', 'amd64', 'ppc64le'):
            if platform.lower().endswith(machine):
                env['platform_machine'] = machine
        for prefix, system, sys_platform in (('macosx', 'Darwin', 'darwin'),
                                             ('win', 'Windows', 'win32'),
                                             ('manylinux', 'Linux', 'linux'),
                                             ('musllinux', 'Linux', 'linux'),
                                             ('linux', 'Linux', 'linux')):
            if platform.startswith(prefix):
                env.update(platform_system=system, sys_platform=sys_platform,
                           os_name='nt' if system == 'Windows' else 'posix')
                break
    return env


def _without_provided(path: str, tmp: str) -> str:
    """A copy of a constraints file without torch/torchvision lines: they
    are the target environment's (a pin for this machine's Python may not
    exist for another) and are never downloaded."""
    kept = []
    with open(path) as f:
        for line in f:
            spec = line.split('#')[0].strip()
            if spec and canonicalize_name(Requirement(spec).name) in PROVIDED:
                continue
            kept.append(line)
    out = osp.join(tmp, osp.basename(path))
    with open(out, 'w') as f:
        f.writelines(kept)
    return out


def resolve(wheel: str, extras: str, constraints: list, options: list,
            python: str) -> list:
    """pip's resolution of ``wheel[extras]``: its report's install items."""
    with tempfile.TemporaryDirectory() as tmp:
        report = osp.join(tmp, 'report.json')
        cmd = [
            python, '-m', 'pip', 'install', '--dry-run', '--ignore-installed',
            '-q', '--report', report, f'{wheel}[{extras}]' if extras else
            wheel
        ] + options
        if options:
            cmd += ['--target', osp.join(tmp, 'target')]
        for path in constraints:
            cmd += ['-c', _without_provided(path, tmp)]
        subprocess.run(cmd, check=True)
        with open(report) as f:
            return json.load(f)['install']


def needed(install: list, extras: str, env: dict) -> dict:
    """name -> version of every resolved package reachable from mmsmmix
    without passing through torch or torchvision."""
    items = {
        canonicalize_name(i['metadata']['name']): i['metadata']
        for i in install
    }
    keep = {}
    todo = [('mmsmmix', frozenset(e for e in extras.split(',') if e))]
    seen = set()
    while todo:
        name, wanted = todo.pop()
        if (name, wanted) in seen or name in PROVIDED or name not in items:
            continue
        seen.add((name, wanted))
        meta = items[name]
        keep[name] = meta['version']
        for line in meta.get('requires_dist') or []:
            req = Requirement(line)
            if req.marker is not None and not any(
                    req.marker.evaluate(dict(env, extra=e))
                    for e in (wanted or {''})):
                continue
            todo.append((canonicalize_name(req.name),
                         frozenset(req.extras)))
    return keep


def download(packages: dict, dest: str, options: list, python: str):
    """Download the wheels (``--no-deps``: the set is already closed)."""
    specs = [f'{n}=={v}' for n, v in sorted(packages.items())]
    subprocess.run([
        python, '-m', 'pip', 'download', '--no-deps', '-q', '-d', dest,
        '--only-binary=:all:'
    ] + options + specs, check=True)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('dest', help='folder for the wheels')
    parser.add_argument('--extras', default='lite',
                        help="extras to gather for (default 'lite': "
                        "mmengine + mmcv-lite; '' for mmsmmix alone)")
    parser.add_argument('--python-version', default='',
                        help='e.g. 3.12 (default: this interpreter)')
    parser.add_argument('--platform', default='',
                        help='e.g. manylinux_2_28_x86_64, which also takes '
                        'wheels for older glibc (default: this machine)')
    parser.add_argument('-c', '--constraint', action='append', default=[],
                        help='pip constraints file (repeatable)')
    parser.add_argument('--wheel-only', action='store_true',
                        help='only build the mmsmmix wheel')
    parser.add_argument('--sdist', action='store_true',
                        help='also write the sdist, and build the wheel '
                        'from it')
    args = parser.parse_args(argv)
    wheel = build_wheel(REPO, args.dest, sdist=args.sdist)
    print(f'wheelhouse: built {osp.basename(wheel)}')
    if args.wheel_only:
        return {}
    options = target_options(args.python_version, args.platform)
    install = resolve(wheel, args.extras, args.constraint, options,
                      sys.executable)
    packages = needed(install, args.extras,
                      marker_environment(args.python_version,
                                         args.platform))
    packages.pop('mmsmmix')
    download(packages, args.dest, options, sys.executable)
    left_out = sorted(
        canonicalize_name(i['metadata']['name']) for i in install
        if canonicalize_name(i['metadata']['name']) not in packages and
        canonicalize_name(i['metadata']['name']) != 'mmsmmix')
    print(f'wheelhouse: {len(packages) + 1} wheels in {args.dest} '
          f'(left to the environment: {", ".join(left_out)})')
    return packages


if __name__ == '__main__':
    main()
