"""The built wheel, installed as a user installs it.

``tools/misc/wheelhouse.py`` builds the wheel and gathers every wheel it
needs except torch/torchvision. A fresh venv gets torch from this test
environment (what ``make install`` took from the local wheel cache) as an
already-installed package (a path file pointing at its distributions,
links only), then installs ``mmsmmix[lite]`` from the wheelhouse with the
network cut (``unshare -n``) and pip's own configuration ignored, so the
wheelhouse alone has to suffice. From a directory outside the checkout, a
config inheriting ``mmsmmix::`` trains with the installed
``.mim/tools/train.py`` (through the installed ``dist_train.sh``) and with
``mim train``, and tests with
``mim test``. In this (dense) environment, which holds the compiled mmcv,
resolving the package's requirements changes nothing.
"""
import glob
import importlib.metadata
import json
import os
import os.path as osp
import re
import subprocess
import sys
import tarfile
import zipfile

import pytest
from mmengine.config import Config
from mmpretrain.registry import MODELS
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import mmsmmix
from mmsmmix.utils import free_port, load_local_checkpoint
from tests.helpers import FMNIST_CONFIGS, REPO_ROOT, load_tool

pytestmark = pytest.mark.slow

CONSTRAINTS = osp.join(REPO_ROOT, 'requirements', 'constraints.txt')
SMMIX_BASE = 'fashion_mnist/vit-mini-p7_smmix_1xb64_fmnist.py'
USER_CONFIG = f"""_base_ = ['mmsmmix::{SMMIX_BASE}']
train_dataloader = dict(batch_size=32, dataset=dict(indices=64))
val_dataloader = dict(dataset=dict(indices=100))
test_dataloader = dict(dataset=dict(indices=100))
train_cfg = dict(max_epochs=1)
default_hooks = dict(logger=dict(interval=1))
"""
# What a user's environment already has: never installed from the
# wheelhouse, never changed by installing mmsmmix.
ENVIRONMENT = ('torch', 'torchvision')


def wheel_requires(wheel: str) -> list:
    """The Requires-Dist lines of a wheel's METADATA."""
    with zipfile.ZipFile(wheel) as z:
        meta = z.read(next(f for f in z.namelist()
                           if f.endswith('.dist-info/METADATA'))).decode()
    return [line[len('Requires-Dist: '):] for line in meta.splitlines()
            if line.startswith('Requires-Dist: ')]


def run(cmd, **kwargs):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900,
                          **kwargs)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f'{cmd}\n{output[-4000:]}'
    return output


def clean_env(**extra):
    """No pip configuration, no PYTHONPATH: only what the venv holds."""
    env = {
        k: v for k, v in os.environ.items()
        if not k.startswith('PIP_') and k not in ('PYTHONPATH', 'VIRTUAL_ENV')
    }
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK='1')
    env.update(extra)
    return env


def no_network_prefix():
    """``unshare -n`` (root) or ``unshare -rn`` (user namespaces)."""
    for prefix in (['unshare', '-n'], ['unshare', '-rn']):
        if subprocess.run(prefix + ['true']).returncode == 0:
            return prefix
    pytest.fail('cannot cut the network: neither `unshare -n` (root) nor '
                '`unshare -rn` works here')


def torch_closure():
    """Distributions of torch, torchvision and what they require (extras
    included), in this environment."""
    todo = [(name, ('', )) for name in ENVIRONMENT]
    seen, done = {}, set()
    while todo:
        name, extras = todo.pop()
        name = canonicalize_name(name)
        if (name, extras) in done:
            continue
        done.add((name, extras))
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        seen[name] = dist
        for line in dist.requires or []:
            req = Requirement(line)
            if req.marker is None or any(
                    req.marker.evaluate({'extra': e}) for e in extras):
                todo.append((req.name, ('', *sorted(req.extras))))
    return seen


def link_torch(overlay: str, site_packages: str) -> list:
    """Link torch's distributions into ``overlay`` and put it on the venv's
    path: the venv then has torch installed, as a user's does."""
    os.makedirs(overlay)
    names = []
    for name, dist in torch_closure().items():
        names.append(name)
        location = str(dist.locate_file(''))
        tops = {str(f).split('/')[0] for f in dist.files or []
                if not str(f).startswith('..')}
        # RECORD lists the .dist-info folder too: what pip reads
        assert any(t.endswith('.dist-info') for t in tops), name
        for top in tops:
            src, dst = osp.join(location, top), osp.join(overlay, top)
            if osp.exists(src) and not osp.lexists(dst):
                os.symlink(src, dst)
    with open(osp.join(site_packages, 'environment_torch.pth'), 'w') as f:
        f.write(overlay + '\n')
    return names


@pytest.fixture(scope='module')
def wheelhouse(tmp_path_factory):
    dest = str(tmp_path_factory.mktemp('wheelhouse'))
    output = run([
        sys.executable,
        osp.join(REPO_ROOT, 'tools', 'misc', 'wheelhouse.py'), dest, '-c',
        CONSTRAINTS
    ])
    names = {
        canonicalize_name(osp.basename(w).split('-')[0])
        for w in glob.glob(osp.join(dest, '*.whl'))
    }
    return dest, names, output


@pytest.fixture(scope='module')
def user_env(wheelhouse, tmp_path_factory):
    """A fresh venv with torch, then mmsmmix[lite] installed offline."""
    dest, _, _ = wheelhouse
    root = tmp_path_factory.mktemp('user_env')
    venv = str(root / 'venv')
    run([sys.executable, '-m', 'venv', venv])
    python = osp.join(venv, 'bin', 'python')
    # Python 3.11's venv seeds an old setuptools (3.12's none); the user's
    # torch installation brought its own, which is the one to keep.
    run([python, '-m', 'pip', 'uninstall', '-y', '-q', 'setuptools'],
        env=clean_env())
    site = run([python, '-c', 'import sysconfig; '
                "print(sysconfig.get_paths()['purelib'])"]).strip()
    torch_names = link_torch(str(root / 'torch'), site)
    before = run([python, '-m', 'pip', 'list', '--format=json'],
                 env=clean_env())
    install = run(no_network_prefix() + [
        python, '-m', 'pip', 'install', '--no-index', '--find-links', dest,
        'mmsmmix[lite]'
    ], env=clean_env())
    return dict(venv=venv, python=python, site=site, root=root,
                torch_names=torch_names, before=json.loads(before),
                install=install)


def test_wheelhouse_leaves_torch_out(wheelhouse):
    dest, names, output = wheelhouse
    assert 'mmsmmix' in names
    for needed in ('mmpretrain', 'mmengine', 'mmcv-lite', 'timm', 'numpy',
                   'matplotlib', 'setuptools'):
        assert needed in names, needed
    for provided in ('torch', 'torchvision', 'triton', 'sympy'):
        assert provided not in names, provided
    assert not any(n.startswith('nvidia-') for n in names)
    assert 'left to the environment: ' in output


def test_the_wheel_carries_configs_tools_and_model_index(wheelhouse):
    dest, _, _ = wheelhouse
    (wheel, ) = glob.glob(osp.join(dest, 'mmsmmix-*.whl'))
    files = set(zipfile.ZipFile(wheel).namelist())
    for path in ('mmsmmix/.mim/model-index.yml',
                 'mmsmmix/.mim/configs/smmix/metafile.yml',
                 'mmsmmix/.mim/configs/_base_/default_runtime.py',
                 f'mmsmmix/.mim/configs/{SMMIX_BASE}',
                 'mmsmmix/.mim/tools/train.py', 'mmsmmix/.mim/tools/test.py',
                 'mmsmmix/utils/runner_args.py',
                 'mmsmmix/.mim/tools/dist_train.sh',
                 'mmsmmix/.mim/tools/slurm_train.sh',
                 'mmsmmix/.mim/tools/misc/launch_env.sh',
                 'mmsmmix_cli/commands.py'):
        assert path in files, path
    (entry_points, ) = [f for f in files
                        if f.endswith('.dist-info/entry_points.txt')]
    scripts = zipfile.ZipFile(wheel).read(entry_points).decode()
    for name in ('train', 'test', 'convert', 'compare'):
        assert re.search(rf'^mmsmmix-{name} = mmsmmix_cli\.', scripts,
                         re.M), scripts
    assert not any('__pycache__' in f for f in files)
    # What pip is told: no torch, torchvision, mmcv or exact pins.
    requires = wheel_requires(wheel)
    plain = [r for r in requires if 'extra ==' not in r]
    assert {canonicalize_name(Requirement(r).name) for r in plain} == {
        'mmpretrain', 'timm', 'numpy', 'matplotlib', 'setuptools'}
    assert not any(s.operator in ('==', '===')
                   for r in requires for s in Requirement(r).specifier)
    assert any(r.startswith('mmcv<2.2.0,>=2.0.0') and 'mim' in r
               for r in requires), requires


def test_offline_install_changes_nothing_of_torch(user_env):
    assert 'Successfully installed' in user_env['install']
    after = json.loads(
        run([user_env['python'], '-m', 'pip', 'list', '--format=json'],
            env=clean_env()))
    versions = {canonicalize_name(p['name']): p['version'] for p in after}
    before = {
        canonicalize_name(p['name']): p['version']
        for p in user_env['before']
    }
    for name in user_env['torch_names']:
        assert versions[name] == before[name], name
    assert 'mmsmmix' in versions and 'mmcv-lite' in versions
    run([user_env['python'], '-m', 'pip', 'check'], env=clean_env())
    # The installed package is imported, not the checkout.
    where = run([user_env['python'], '-c', 'import mmsmmix; '
                 "print('imported', mmsmmix.__file__)"],
                cwd=user_env['root'], env=clean_env())
    assert re.search(r'^imported (\S+)$', where, re.M).group(1) == osp.join(
        user_env['site'], 'mmsmmix', '__init__.py')
    # The console script (setup.py's entry point) runs the installed
    # .mim/tools/train.py, with no venv on PATH.
    output = run([osp.join(user_env['venv'], 'bin', 'mmsmmix-train'),
                  '--help'], cwd=user_env['root'],
                 env=clean_env(PATH='/usr/bin:/bin'))
    usage = output.split('\n\n')[0]
    assert usage.startswith('usage: ') and re.search(r'\sconfig\b', usage), \
        output


def _same_model_as_the_base(work_dir):
    """The trained checkpoint holds the model our base config describes,
    and its config inherited our SMMix recipe."""
    (ckpt, ) = glob.glob(osp.join(work_dir, 'epoch_1.pth'))
    checkpoint = load_local_checkpoint(ckpt)
    ours = Config.fromfile(osp.join(FMNIST_CONFIGS,
                                    osp.basename(SMMIX_BASE)))
    model = MODELS.build(ours.model)
    state = checkpoint['state_dict']
    assert {k: tuple(v.shape) for k, v in state.items()} == {
        k: tuple(v.shape) for k, v in model.state_dict().items()}
    trained = Config.fromstring(checkpoint['meta']['cfg'], '.py')
    assert trained.model.train_cfg.augments.type == 'SMMix'
    assert trained.model.train_cfg == ours.model.train_cfg


def test_installed_launcher_uses_the_package_environment(
        user_env, fmnist_root, tmp_path):
    """The installed copy of dist_train.sh (running the installed
    .mim/tools/train.py), with no PYTHON and no venv on PATH, runs the
    Python of the venv it is installed in, on a config inheriting ours."""
    (tmp_path / 'mine.py').write_text(USER_CONFIG)
    script = osp.join(user_env['site'], 'mmsmmix', '.mim', 'tools',
                      'dist_train.sh')
    env = clean_env(PATH='/usr/bin:/bin', PORT=str(free_port()))
    env.pop('PYTHON', None)
    output = run(['bash', script, 'mine.py', '1', '--work-dir', 'w'],
                 cwd=tmp_path, env=env)
    assert (f'dist_train.sh: using {user_env["venv"]}/bin/python (from the '
            'environment mmsmmix is installed in)') in output
    assert 'loss_fine' in output and 'loss_con' in output
    _same_model_as_the_base(str(tmp_path / 'w'))


def pinned_versions() -> dict:
    """The exact pins (``name==version``) of requirements/constraints.txt."""
    pins = {}
    with open(CONSTRAINTS) as f:
        for line in f:
            line = line.split('#')[0].strip()
            if line:
                req = Requirement(line)
                for spec in req.specifier:
                    if spec.operator == '==':
                        pins[canonicalize_name(req.name)] = spec.version
    return pins


# openmim 0.3.9 requires opendatalab; opendatalab 0.0.10 requires openxlab,
# which pins setuptools 60, requests 2.28 and rich 13.4 (torch 2.14 needs
# setuptools >= 77), so the last release without openxlab is installed.
MIM = ('openmim==0.3.9', 'opendatalab==0.0.9')


@pytest.fixture(scope='module')
def mim(user_env, tmp_path_factory):
    """openmim with every dependency it declares (so that `pip check`
    passes), as docs/get_started/install.md says; everything installed at
    the version pinned in requirements/constraints.txt."""
    python = user_env['python']
    report = str(tmp_path_factory.mktemp('mim') / 'report.json')
    run([python, '-m', 'pip', 'install', '-q', '-c', CONSTRAINTS,
         '--report', report, *MIM])
    with open(report) as f:
        installed = {
            canonicalize_name(item['metadata']['name']):
            item['metadata']['version']
            for item in json.load(f)['install']
        }
    pins = pinned_versions()
    unpinned = {n: v for n, v in installed.items() if pins.get(n) != v}
    assert not unpinned, f'not pinned in {CONSTRAINTS}: {unpinned}'
    return osp.join(user_env['venv'], 'bin', 'mim')


def test_mim_train_and_test(user_env, mim, fmnist_root, tmp_path):
    env = clean_env()
    # openmim's own requirements are met, and nothing of the stack broken
    assert 'No broken requirements found' in run(
        [user_env['python'], '-m', 'pip', 'check'], env=env)
    (tmp_path / 'mine.py').write_text(USER_CONFIG)
    output = run([mim, 'train', 'mmsmmix', 'mine.py', '--work-dir', 'w'],
                 cwd=tmp_path, env=env)
    assert re.search(r'Training command is \S+python\S* \S+/mmsmmix/\.mim/'
                     r'tools/train\.py mine\.py --launcher none', output)
    _same_model_as_the_base(str(tmp_path / 'w'))
    output = run([
        mim, 'test', 'mmsmmix', 'mine.py', '--checkpoint', 'w/epoch_1.pth',
        '--work-dir', 't'
    ], cwd=tmp_path, env=env)
    assert re.search(r'accuracy/top1: [0-9.]+', output)


def test_mim_train_two_processes(user_env, mim, fmnist_root, tmp_path):
    """mim's pytorch launcher (torch.distributed.launch) on CPU processes."""
    (tmp_path / 'mine.py').write_text(
        USER_CONFIG.replace('indices=64', 'indices=128'))
    output = run([
        mim, 'train', 'mmsmmix', 'mine.py', '--gpus', '2', '--launcher',
        'pytorch', '--port', str(free_port()), '--work-dir', 'w'
    ], cwd=tmp_path, env=clean_env())
    assert 'Distributed training: True' in output
    # 128 images / (2 processes x 32) = 2 iterations.
    assert 'Epoch(train) [1][2/2]' in output
    assert (tmp_path / 'w' / 'epoch_1.pth').is_file()


def test_dense_environment_needs_no_change(wheelhouse):
    """This environment holds the compiled mmcv (make dense): resolving
    mmsmmix's requirements (and the mim extra) from the wheelhouse changes
    neither torch, torchvision nor mmcv, and brings no mmcv-lite."""
    dest, _, _ = wheelhouse
    mmcv = importlib.metadata.distribution('mmcv')
    assert mmcv.version.startswith('2.1')
    (wheel, ) = glob.glob(osp.join(dest, 'mmsmmix-*.whl'))
    requires = [
        r.split(';')[0].strip() for r in wheel_requires(wheel)
        if 'extra ==' not in r or 'extra == "mim"' in r
    ]
    report = osp.join(dest, 'dense-report.json')
    run([
        sys.executable, '-m', 'pip', 'install', '--dry-run', '--no-index',
        '--find-links', dest, '--report', report, *requires
    ], env=clean_env())
    with open(report) as f:
        changed = {
            canonicalize_name(i['metadata']['name'])
            for i in json.load(f)['install']
        }
    assert not changed & {'torch', 'torchvision', 'mmcv', 'mmcv-lite'}, \
        changed
    run([sys.executable, '-m', 'pip', 'check'], env=clean_env())


@pytest.mark.parametrize('where', ['relative', 'absolute'])
def test_a_wheel_built_from_the_sdist_is_the_same(wheelhouse, tmp_path,
                                                  monkeypatch, where):
    """``make dist``: ``wheelhouse.py DEST --wheel-only --sdist``, run from
    a directory other than the checkout, into a relative or an absolute
    DEST, writes there the sdist and the wheel built from it, and nothing
    else there or in the working directory. The sdist carries .mim
    (MANIFEST.in), and setup.py keeps it when building from the sdist,
    where configs/ and tools/ are absent."""
    dest, _, _ = wheelhouse
    (direct, ) = glob.glob(osp.join(dest, 'mmsmmix-*.whl'))
    cwd = tmp_path / 'cwd'
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    out = cwd / 'out' / 'dist' if where == 'relative' else tmp_path / 'dist'
    arg = osp.join('out', 'dist') if where == 'relative' else str(out)
    tool = load_tool('tools/misc/wheelhouse.py')
    assert tool.main([arg, '--wheel-only', '--sdist']) == {}
    version = mmsmmix.__version__
    assert sorted(os.listdir(out)) == [
        f'mmsmmix-{version}-py3-none-any.whl', f'mmsmmix-{version}.tar.gz']
    # nothing else in the working directory
    assert os.listdir(cwd) == (['out'] if where == 'relative' else [])
    rebuilt = str(out / f'mmsmmix-{version}-py3-none-any.whl')

    def names(wheel):
        return {n for n in zipfile.ZipFile(wheel).namelist()
                if '.dist-info/' not in n}

    assert names(rebuilt) == names(direct)
    assert f'mmsmmix/.mim/configs/{SMMIX_BASE}' in names(rebuilt)
    with tarfile.open(str(out / f'mmsmmix-{version}.tar.gz')) as sdist:
        members = sdist.getnames()
    assert (f'mmsmmix-{version}/mmsmmix/.mim/configs/{SMMIX_BASE}'
            in members)
