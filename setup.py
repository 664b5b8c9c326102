import os
import os.path as osp
import shutil
import sys
from setuptools import find_packages, setup

REPO = osp.dirname(osp.abspath(__file__))
# What `mim` and `mmsmmix::` inheritance read from an installed package.
MIM_FILES = ['configs', 'tools', 'model-index.yml']


def read_requirements(name):
    with open(osp.join(REPO, 'requirements', name)) as f:
        return [
            line.split('#')[0].strip() for line in f
            if line.split('#')[0].strip()
        ]


def add_mim_extension():
    """Put configs, tools and the model index into ``mmsmmix/.mim``.

    Linked for an editable install, copied for an sdist or a wheel (as
    MMPretrain's setup.py does); nothing for other commands.
    """
    if 'develop' in sys.argv or 'editable_wheel' in sys.argv:
        mode = 'symlink' if os.name != 'nt' else 'copy'
    elif 'sdist' in sys.argv or 'bdist_wheel' in sys.argv:
        mode = 'copy'
    else:
        return
    mim_path = osp.join(REPO, 'mmsmmix', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    for name in MIM_FILES:
        src, dst = osp.join(REPO, name), osp.join(mim_path, name)
        if not osp.exists(src):  # building from an sdist: .mim is in it
            continue
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            os.symlink(osp.relpath(src, mim_path), dst)
        elif osp.isdir(src):
            shutil.copytree(
                src, dst, ignore=shutil.ignore_patterns('__pycache__'))
        else:
            shutil.copyfile(src, dst)


version = {}
with open(osp.join(REPO, 'mmsmmix', 'version.py')) as f:
    exec(f.read(), version)

if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='mmsmmix',
        version=version['__version__'],
        description='SMMix and related image-mixing methods for MMPretrain',
        long_description=open(osp.join(REPO, 'README.md')).read(),
        long_description_content_type='text/markdown',
        url='https://github.com/ChenMnZ/SMMix',
        packages=find_packages(
            include=['mmsmmix', 'mmsmmix.*', 'mmsmmix_cli']),
        include_package_data=True,
        python_requires='>=3.9',
        install_requires=read_requirements('runtime.txt'),
        extras_require=dict(
            lite=read_requirements('lite.txt'),
            mim=read_requirements('mminstall.txt'),
            dense=read_requirements('dense.txt'),
            tests=read_requirements('tests.txt')),
        entry_points=dict(console_scripts=[
            'mmsmmix-train = mmsmmix_cli.commands:train',
            'mmsmmix-test = mmsmmix_cli.commands:test',
            'mmsmmix-compare = mmsmmix_cli.commands:compare',
            'mmsmmix-convert = mmsmmix_cli.commands:convert',
        ]),
        license='Apache-2.0',
        zip_safe=False,
    )
