from setuptools import find_packages, setup


def read_requirements(path):
    with open(path) as f:
        return [
            line.split('#')[0].strip() for line in f
            if line.split('#')[0].strip()
        ]


version = {}
with open('mmsmmix/version.py') as f:
    exec(f.read(), version)

setup(
    name='mmsmmix',
    version=version['__version__'],
    description='SMMix and related image-mixing methods for MMPretrain',
    long_description=open('README.md').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmsmmix', 'mmsmmix.*']),
    python_requires='>=3.11',
    install_requires=read_requirements('requirements/runtime.txt'),
    extras_require=dict(tests=read_requirements('requirements/tests.txt')),
    license='Apache-2.0',
)
