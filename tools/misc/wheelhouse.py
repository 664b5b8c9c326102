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
import os.path as osp
import sys

from packaging.utils import canonicalize_name

from mmsmmix.utils.wheelhouse import (build_wheel, download,
                                      marker_environment, needed, resolve,
                                      target_options)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


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
