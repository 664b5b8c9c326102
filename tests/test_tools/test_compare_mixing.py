"""tools/benchmark/compare_mixing.py: --quick trains four methods (plain,
MMPretrain's, attention-guided, relabelled) on real Fashion-MNIST and
writes the table and chart (every method's config trains through the
Runner in test_mixing_train.py); a second call resumes without
retraining; a suite of the user's own on another dataset; 2 processes per
run; --collect of runs trained by tools/train.py; the summary maths against
hand computations; the mixing-op timer leaves the model's forwards out; the
coordinator's messages (a failed run's error line, a resumed run's epoch,
the keys of a changed setting, a misspelt method, the timing warm-up) and
--print-commands lines that tools/train.py parses back exactly."""
import json
import os
import os.path as osp
import re
import shlex
import subprocess
import sys
import time
import types

import pytest
import torch
from mmengine.config import Config
from PIL import Image

import mmsmmix  # noqa: F401
from mmsmmix.benchmarks import timing
from mmsmmix.benchmarks.comparison import (METHODS, ComparisonError, Launch,
                                           Run, SettingChanged, cfg_options,
                                           check_methods, command_options,
                                           describe, failure, identify,
                                           last_error, load_plan, load_suite,
                                           make_plan, markdown_table,
                                           resume_point, setting_changes,
                                           summarise, train_all, verdict)
from mmsmmix.benchmarks.comparison.workers import LaunchCommand
from mmsmmix.benchmarks.timing import build_model, mixing_op_seconds
from mmsmmix.datasets import first_training_batch
from tests.helpers import REPO_ROOT, load_tool, refused
from tests.tool_process import run_tool_process, start_tool_process

TOOL = osp.join(REPO_ROOT, 'tools', 'benchmark', 'compare_mixing.py')


def _compare(*args, check=True, env=None):
    proc = run_tool_process(TOOL, *args, env=env)
    output = proc.stdout + proc.stderr
    if check:
        assert proc.returncode == 0, output[-4000:]
    return proc.returncode, output


QUICK_METHODS = ('nomix', 'cutmix', 'transmix', 'smmix')


@pytest.fixture(scope='module')
def quick(fmnist_root, tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('compare'))
    _, output = _compare('--quick', '--methods', ','.join(QUICK_METHODS),
                         '--work-dir', work_dir)
    return work_dir, output


@pytest.mark.slow
def test_quick_trains_and_writes_table_and_chart(quick):
    work_dir, output = quick
    with open(osp.join(work_dir, 'comparison.md')) as f:
        table = f.read()
    for method in QUICK_METHODS:
        assert f'| {METHODS[method]} | 1 |' in table
    assert 'Best top-1:' in output and 'ETA' in output
    assert 'Mixing ops cost at most' in output
    with open(osp.join(work_dir, 'comparison.json')) as f:
        rows = json.load(f)['rows']
    assert [r['method'] for r in rows] == list(QUICK_METHODS)
    cutmix = next(r for r in rows if r['method'] == 'cutmix')
    assert cutmix['step_ratio'] == pytest.approx(1.0)
    assert all(0 <= r['top1'] <= 100 and r['mixing_share'] is not None
               for r in rows)
    # top-1 on the 200 quick test images: a multiple of 0.5 %
    assert all(abs(r['top1'] * 2 - round(r['top1'] * 2)) < 1e-6
               for r in rows)
    assert 'Fashion-MNIST, ViT-mini, patch 4 (7x7 tokens): the first 128 ' \
        'training images, 1 epoch, seed 0;' in table
    # the quick setting's timing: 2 rounds after 1 warm-up round
    assert 'step time: mean of 2 round-robin steps of batch 64 at ' in table
    assert 'thread(s), after 1 warm-up step of each method.' in table
    assert 'timing 4 training steps and their mixing ops: 1 warm-up + 2 ' \
        'measured rounds' in output
    with Image.open(osp.join(work_dir, 'comparison.png')) as png:
        assert min(png.size) > 300


@pytest.mark.slow
def test_second_call_resumes_without_retraining(quick, capsys):
    work_dir, _ = quick
    result = osp.join(work_dir, 'runs', 'smmix', 'seed0', 'result.json')
    before = os.stat(result).st_mtime_ns
    _, output = _compare('--quick', '--methods', ','.join(QUICK_METHODS),
                         '--work-dir', work_dir)
    assert '4 of 4 runs already finished; training 0' in output
    assert 'started' not in output
    assert os.stat(result).st_mtime_ns == before
    _, output = _compare('--quick', '--work-dir', work_dir, '--report-only')
    assert 'started' not in output and 'already finished' not in output
    assert '| SMMix | 1 |' in output
    # another setting in the same work dir is refused, naming what differs
    code, output = refused(TOOL, '--quick', '--epochs', '2', '--work-dir',
                           work_dir, capsys=capsys)
    assert code == 2 and 'another setting: epochs: 1 there, 2 now. Give ' \
        'another --work-dir' in output


@pytest.mark.slow
def test_adding_a_seed_trains_only_that_seed(quick):
    work_dir, _ = quick
    _, output = _compare('--quick', '--methods', 'cutmix,smmix', '--seeds',
                         '2', '--work-dir', work_dir)
    assert '2 of 4 runs already finished; training 2' in output
    assert 'started cutmix/seed1' in output and 'seed0' not in output
    assert 'resumed' not in output
    assert '| SMMix | 2 |' in output


def _refused(*args, capsys) -> str:
    """The tool's one-line message when it refuses ``args`` (in this
    process: the errors come before any work), exit status 2."""
    code, message = refused(TOOL, *args, capsys=capsys)
    assert code == 2
    if 'usage:' not in message:  # argparse's own errors: usage first
        assert message.count('\n') == 1 and message.startswith(
            'tools/benchmark/compare_mixing.py: '), message
    return message


def test_bad_options_are_named(fmnist_root, tmp_path, capsys):
    assert "--methods: unknown method 'saliencymix': suite 'fashion_mnist' " \
        'has nomix, mixup,' in _refused('--quick', '--methods',
                                        'cutmix,saliencymix', capsys=capsys)
    assert "--suite: no suite '/nonexistent'" in _refused(
        '--quick', '--suite', '/nonexistent', capsys=capsys)
    assert "--setting: suite 'fashion_mnist' has no setting 'long'" in \
        _refused('--setting', 'long', capsys=capsys)
    assert "--cfg-options: ['randomness.seed'] are set by the comparison" \
        in _refused('--quick', '--cfg-options', 'randomness.seed=3',
                    capsys=capsys)
    assert '--gpus-per-run > 1 needs --launcher' in _refused(
        '--quick', '--gpus-per-run', '2', capsys=capsys)
    assert '--train-images 100000: the training set has 60000 images' in \
        _refused('--quick', '--train-images', '100000', '--work-dir',
                 str(tmp_path), capsys=capsys)
    assert not osp.exists(osp.join(tmp_path, 'plan.json'))  # nothing planned
    with pytest.raises(ValueError, match='twice'):
        check_methods(['smmix', 'smmix'], load_suite('fashion_mnist'))


def test_summary_by_hand():
    results = {
        'cutmix': [dict(top1=80., ece=5., corruption_top1=60.),
                   dict(top1=82., ece=7., corruption_top1=62.),
                   dict(top1=84., ece=9., corruption_top1=64.)],
        'smmix': [dict(top1=83., ece=4., corruption_top1=61.)],
    }
    timing = dict(step_s=dict(cutmix=[1., 3.], smmix=[2.5, 3.5],
                              nomix=[1., 1.]),
                  mixing_s=dict(cutmix=0.02, smmix=0.06, nomix=0.))
    labels = dict(METHODS)
    rows = summarise(['nomix', 'cutmix', 'smmix'], labels, results, timing)
    nomix, cutmix, smmix = rows
    assert nomix['runs'] == 0 and nomix['step_ratio'] == pytest.approx(0.5)
    assert cutmix['top1'] == pytest.approx(82.)
    assert cutmix['top1_std'] == pytest.approx(2.)  # sample std of 80/82/84
    assert cutmix['ece'] == pytest.approx(7.)
    assert cutmix['corruption_top1'] == pytest.approx(62.)
    assert cutmix['mixing_share'] == pytest.approx(0.01)  # 0.02 / 2
    assert cutmix['top1_runs'] == [80., 82., 84.]
    assert smmix['step_ratio'] == pytest.approx(1.5)  # 3.0 / 2.0
    assert smmix['mixing_share'] == pytest.approx(0.02)
    table = markdown_table(rows)
    # a single run: no spread written
    assert '| SMMix | 1 | **83.00** | 4.00 | 61.00 | 1.50x | 2.00 |' in table
    assert '| CutMix | 3 | 82.00 ± 2.00 |' in table
    assert '| no mixing | 0 | – |' in table
    assert verdict(rows) == (
        'Best top-1: SMMix (83.00, one run), 1.00 points ahead of CutMix (a '
        'single run: no spread measured).')
    results['smmix'].append(dict(top1=87., ece=4., corruption_top1=None))
    rows = summarise(['cutmix', 'smmix'], labels, results, timing)
    assert rows[1]['corruption_top1'] == 61.  # the run without: left out
    # SMMix 85 ± 2.83 vs CutMix 82 ± 2: the gap 3 exceeds both
    assert verdict(rows).endswith(
        '3.00 points ahead of CutMix (more than one standard deviation).')


def test_cfg_options_apply_the_setting():
    suite = load_suite('fashion_mnist')
    options = cfg_options(suite.setting('default'), seed=2, epochs=40)
    cfg = Config.fromfile(suite.methods['smmix'].config)
    cfg.merge_from_dict(options)
    assert cfg.model.backbone.patch_size == 4
    assert cfg.train_dataloader.dataset.indices == 5000
    assert cfg.randomness.seed == 2
    assert cfg.train_cfg.val_begin > cfg.train_cfg.max_epochs


def test_mixing_op_time_leaves_the_forwards_out(fmnist_root, monkeypatch):
    """On a fake clock that only the forwards and the augment's own work
    advance, the mixing-op time is exactly the augment's own share."""
    suite = load_suite('fashion_mnist')
    cfg = Config.fromfile(suite.methods['rankmixup'].config)
    cfg.merge_from_dict(cfg_options(suite.setting('quick'), seed=0, epochs=1))
    model, _ = build_model(cfg, torch.device('cpu'))
    data = first_training_batch(cfg, 8)
    clock = types.SimpleNamespace(now=0.)
    monkeypatch.setattr(timing, 'time', types.SimpleNamespace(
        perf_counter=lambda: clock.now))
    forward, augment = model.extract_feat, model.augments[0]
    mix = augment.mix

    def slow_extract_feat(*args, **kwargs):
        clock.now += 1000.
        return forward(*args, **kwargs)

    def mix_taking_7s(*args, **kwargs):
        clock.now += 7.
        return mix(*args, **kwargs)

    model.extract_feat = slow_extract_feat
    augment.mix = mix_taking_7s
    # RankMixup's op forwards the mixed batches and the dispatch forwards
    # the returned (clean) batch: thousands of fake seconds in forwards,
    # none of which may be counted.
    seconds = mixing_op_seconds(model, augment, data, torch.device('cpu'))
    assert clock.now > 2000
    assert seconds == 7.
    assert model.extract_feat is slow_extract_feat  # restored


def _workers_of(work_dir):
    """pids of live processes whose command line names ``work_dir`` and
    the comparison's worker module."""
    pids = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/cmdline', 'rb') as f:
                cmd = f.read().decode(errors='replace')
            with open(f'/proc/{entry}/stat') as f:
                zombie = f.read().split(')')[-1].split()[0] == 'Z'
        except OSError:
            continue
        if 'mmsmmix.benchmarks.comparison.run' in cmd and work_dir in cmd \
                and not zombie:
            pids.append(int(entry))
    return pids


@pytest.mark.slow
def test_locked_work_dir_and_no_orphans_after_kill_9(fmnist_root, tmp_path):
    """A second coordinator on a busy work dir is refused naming the
    holder; ``kill -9`` of the coordinator takes its worker with it; the
    rerun takes the lock over and resumes the interrupted run."""
    work_dir = str(tmp_path / 'cmp')
    args = ['--quick', '--methods', 'smmix', '--epochs', '3',
            '--train-images', '1024', '--no-timing', '--work-dir', work_dir]
    coordinator = start_tool_process(TOOL, *args)
    run_dir = osp.join(work_dir, 'runs', 'smmix', 'seed0')
    deadline = time.time() + 300
    while not osp.isfile(osp.join(run_dir, 'epoch_1.pth')):
        assert coordinator.poll() is None and time.time() < deadline
        time.sleep(0.2)
    workers = _workers_of(work_dir)
    assert len(workers) == 1

    code, output = _compare(*args, check=False)
    assert code != 0
    assert f'is in use by another comparison (pid {coordinator.pid})' in \
        output

    coordinator.kill()  # SIGKILL: no handler runs
    assert coordinator.wait().returncode == -9
    deadline = time.time() + 60  # the kernel's SIGTERM, then its exit
    while _workers_of(work_dir):
        assert time.time() < deadline, 'the worker outlived its coordinator'
        time.sleep(0.5)
    assert not osp.isfile(osp.join(run_dir, 'result.json'))

    _, output = _compare(*args)
    assert '0 of 1 runs already finished; training 1' in output
    assert re.search(r'resumed smmix/seed0 from epoch [12]\b', output)
    assert 'started smmix' not in output
    log = open(osp.join(run_dir, 'run.log')).read()
    assert 'resumed' in log.lower() or 'load checkpoint' in log.lower()
    assert osp.isfile(osp.join(run_dir, 'result.json'))


def _idx(array) -> bytes:
    """IDX bytes of a uint8 array, written by hand from the format."""
    import struct
    header = struct.pack('>HBB', 0, 0x08, array.ndim)
    header += struct.pack('>' + 'I' * array.ndim, *array.shape)
    return header + array.astype('uint8').tobytes()


@pytest.fixture(scope='module')
def squares_root(tmp_path_factory):
    """Another dataset in Fashion-MNIST's IDX format: class k is a bright
    square at the k-th of 10 places, on noise; 256 training and 100 test
    images."""
    import gzip

    import numpy as np
    root = tmp_path_factory.mktemp('squares')
    rng = np.random.default_rng(0)
    for split, n in (('train', 256), ('t10k', 100)):
        labels = rng.integers(0, 10, n)
        images = rng.integers(0, 60, (n, 28, 28))
        for image, k in zip(images, labels):
            row, col = divmod(int(k), 5)
            image[4 + 12 * row:10 + 12 * row, 1 + 5 * col:6 + 5 * col] = 255
        for kind, array in (('images-idx3', images), ('labels-idx1', labels)):
            (root / f'{split}-{kind}-ubyte.gz').write_bytes(
                gzip.compress(_idx(array)))
    return str(root)


@pytest.mark.slow
def test_a_suite_of_ones_own_on_another_dataset(squares_root, tmp_path,
                                                capsys):
    """A YAML suite names the dataset; --cfg-options move every run's data
    root to it: the runs train on its 256 images (4 steps of 64) and test
    on its 100 (corruption and occlusion on its first 20), and the report
    says 'Squares', never Fashion-MNIST."""
    suite = load_suite('fashion_mnist')
    path = tmp_path / 'squares.yaml'
    path.write_text(
        'dataset: Squares\nmodel: ViT-mini, patch 4\nmethods:\n'
        f"  cutmix: {suite.methods['cutmix'].config}\n"
        '  mine:\n'
        f"    config: {suite.methods['mixup'].config}\n"
        '    label: My Mixup\n'
        "cfg_options: {model.backbone.patch_size: 4}\n"
        'settings:\n  default: {epochs: 1, seeds: 1, corruptions: contrast,'
        " corruption_images: 20, occlusion: '0,0.5'}\n"
        'highlight: [mine]\n')
    root = [f'{split}_dataloader.dataset.data_root={squares_root}'
            for split in ('train', 'val')]
    work_dir = str(tmp_path / 'cmp')
    code, output = refused(TOOL, '--suite', str(path), '--cfg-options',
                           *root, '--train-images', '300', '--work-dir',
                           work_dir, capsys=capsys)
    assert code == 2 and '--train-images 300: the training set has 256 ' \
        'images' in output
    _, output = _compare('--suite', str(path), '--cfg-options', *root,
                         '--work-dir', work_dir)
    with open(osp.join(work_dir, 'comparison.md')) as f:
        report = f.read()
    assert report.startswith(
        'Squares, ViT-mini, patch 4: all training images, 1 epoch, seed 0; '
        'top-1 and ECE on all test images; corruption top-1 = mean over '
        'contrast (severity 3) on the first 20 test images; occlusion top-1 '
        '= mean over random-patch occlusion of 0,0.5 of the patches on the '
        'first 20 test images.')
    assert '| Occlusion top-1 (%) |' in report
    assert 'Fashion-MNIST' not in report
    for label in ('CutMix', 'My Mixup'):
        assert f'| {label} | 1 |' in report
    for method in ('cutmix', 'mine'):
        with open(osp.join(work_dir, 'runs', method, 'seed0',
                           'result.json')) as f:
            result = json.load(f)
        assert result['iters'] == 4  # 256 images / 64
        assert abs(result['top1'] - round(result['top1'])) < 1e-6  # of 100
        # of 20 images: multiples of 5 %, their mean over 2 ratios of 2.5 %
        assert result['corruption_top1'] % 5 == 0
        assert result['occlusion_top1'] % 2.5 == 0


@pytest.mark.slow
def test_two_processes_per_run(fmnist_root, tmp_path):
    """--launcher pytorch --gpus-per-run 2: each run is 2 gloo processes
    under torchrun, sharing its batches (128 images = 1 step of 2 x 64)."""
    work_dir = str(tmp_path / 'cmp')
    _compare('--quick', '--methods', 'smmix', '--launcher', 'pytorch',
             '--gpus-per-run', '2', '--jobs', '1', '--no-timing',
             '--work-dir', work_dir)
    _check_two_processes(work_dir, 'Distributed training: True')
    assert not _workers_of(work_dir)


def _check_two_processes(work_dir, log_line):
    """SMMix's quick run was 2 processes: 128 images = 1 step of 2 x 64."""
    run = osp.join(work_dir, 'runs', 'smmix', 'seed0')
    with open(osp.join(run, 'result.json')) as f:
        result = json.load(f)
    assert result['processes'] == 2 and result['iters'] == 1
    with open(osp.join(run, 'run.log')) as f:
        assert log_line in f.read()


@pytest.mark.slow
def test_two_slurm_tasks_per_run(fmnist_root, tmp_path):
    """--launcher slurm: each run is one srun of 2 tasks (gloo on CPUs) on
    a private one-node Slurm cluster."""
    from tests.slurm_cluster import slurm_cluster, unavailable
    why = unavailable()
    if why:
        pytest.skip(f'no Slurm: {why}')
    work_dir = str(tmp_path / 'cmp')
    with slurm_cluster(str(tmp_path / 'slurm')) as env:
        _compare('--quick', '--methods', 'smmix', '--launcher', 'slurm',
                 '--partition', 'cpu', '--gpus-per-run', '2', '--jobs', '1',
                 '--no-timing', '--work-dir', work_dir, env=env)
    _check_two_processes(work_dir, 'Distributed launcher: slurm')


@pytest.mark.slow
def test_collect_gives_the_table_of_own_runs(quick, tmp_path, capsys):
    """SMMix trained by tools/train.py with the comparison's options, then
    --collect: the same top-1, ECE and corruption top-1 as the
    comparison's own run of it."""
    work_dir, _ = quick
    with open(osp.join(work_dir, 'plan.json')) as f:
        plan = json.load(f)
    options = cfg_options(plan['setting'], seed=0, epochs=1)
    trained = str(tmp_path / 'trained')
    threads = str(max(1, (os.cpu_count() or 1) // 2))  # as the workers
    proc = run_tool_process(
        osp.join(REPO_ROOT, 'tools', 'train.py'), plan['configs']['smmix'],
        '--work-dir', trained, '--cfg-options',
        *[f'{k}={v}' for k, v in options.items()],
        env=dict(os.environ, OMP_NUM_THREADS=threads,
                 CUDA_VISIBLE_DEVICES=''))
    assert proc.returncode == 0, proc.stderr[-3000:]
    collected = str(tmp_path / 'collected')
    _, output = _compare('--quick', '--methods', 'smmix', '--collect',
                         trained, '--work-dir', collected)
    assert 'started' not in output  # trains nothing

    with open(osp.join(collected, 'comparison.json')) as f:
        row, = json.load(f)['rows']
    with open(osp.join(work_dir, 'runs', 'smmix', 'seed0',
                       'result.json')) as f:
        own = json.load(f)
    assert row['runs'] == 1
    for key in ('top1', 'ece', 'corruption_top1'):
        assert row[key] == own[key], key
    # the comparison's own run of it is never replaced by a collected one
    code, output = refused(TOOL, '--quick', '--methods', 'smmix',
                           '--collect', trained, '--work-dir', work_dir,
                           capsys=capsys)
    assert code == 2 and 'smmix/seed0 already has a result' in output
    assert '(from this comparison)' in output


def test_collect_refuses_another_setting(tmp_path):
    suite = load_suite('fashion_mnist')
    plan = make_plan(suite, ['cutmix', 'smmix'], suite.setting('quick'),
                     device='cpu')
    src = tmp_path / 'run'
    src.mkdir()
    (src / 'vit-mini-p7_smmix_1xb64_fmnist.py').write_text(
        f"_base_ = {suite.methods['smmix'].config!r}\n"
        'randomness = dict(seed=1)\ntrain_cfg = dict(max_epochs=2)\n')
    with pytest.raises(ValueError) as err:
        identify(plan, str(src))
    assert 'trained with another setting' in str(err.value)
    assert 'train_cfg.max_epochs=2 (the comparison: 1)' in str(err.value)
    assert 'train_dataloader.dataset.indices=None (the comparison: 128)' \
        in str(err.value)
    other = tmp_path / 'other'
    other.mkdir()
    (other / 'mine.py').write_text('x = 1\n')
    with pytest.raises(ValueError, match='expected the config dumped by '
                       r"tools/train.py.*found \['mine.py'\]"):
        identify(plan, str(other))


def test_launch_commands():
    """Multi-process runs start through the shell launchers' own torchrun
    and srun lines (tools/misc/launch.sh), with this Python."""
    worker = ['-m', 'mmsmmix.benchmarks.comparison.run', 'W', 'smmix', '0']
    assert Launch().command(worker, 'j', False).argv == [sys.executable,
                                                         *worker]
    launch_sh = osp.join(REPO_ROOT, 'tools', 'misc', 'launch.sh')
    torchrun = Launch('pytorch', 4).command(worker, 'j', True)
    assert osp.realpath(torchrun.argv[1]) == osp.realpath(launch_sh)
    assert torchrun.argv[0] == 'bash'
    assert torchrun.argv[2:] == ['torchrun', '4', *worker]
    assert torchrun.env['PYTHON'] == sys.executable
    srun = Launch('slurm', 16, 'gpu', 8, ('--time=1:00:00', )).command(
        worker, 'compare-smmix-seed0', True, threads=5)
    assert srun.argv[2:] == ['srun', 'gpu', 'compare-smmix-seed0', *worker]
    assert osp.realpath(srun.argv[1]) == osp.realpath(launch_sh)
    assert {k: srun.env[k] for k in ('GPUS', 'GPUS_PER_NODE', 'GRES',
                                     'CPUS_PER_TASK', 'SRUN_ARGS')} == dict(
        GPUS='16', GPUS_PER_NODE='8', GRES='gpu:8', CPUS_PER_TASK='5',
        SRUN_ARGS='--time=1:00:00')
    assert int(srun.env['MASTER_PORT']) > 0
    assert Launch('slurm', 2, 'cpu').command(worker, 'j', False).env[
        'GRES'] == ''


def test_launcher_lines(tmp_path):
    """What tools/misc/launch.sh runs (torchrun and srun stand-ins on PATH
    print their arguments): torchrun --standalone on one node without
    PORT, the given rendezvous otherwise; srun with the task layout."""
    fake = tmp_path / 'bin'
    fake.mkdir()
    (fake / 'srun').write_text('#!/bin/sh\necho srun "$@"\n')
    (fake / 'srun').chmod(0o755)
    (fake / 'python').write_text(
        '#!/bin/sh\nif [ "$1" = -c ]; then exit 0; fi\necho python "$@"\n')
    (fake / 'python').chmod(0o755)
    launch_sh = osp.join(REPO_ROOT, 'tools', 'misc', 'launch.sh')

    def line(*args, **env):
        base = {k: v for k, v in os.environ.items()
                if k not in ('PORT', 'NNODES', 'MASTER_ADDR', 'NODE_RANK')}
        out = subprocess.run(
            ['bash', launch_sh, *args], capture_output=True, text=True,
            env=dict(base, PYTHON=str(fake / 'python'),
                     PATH=f"{fake}:{os.environ['PATH']}", **env),
            check=True).stdout.split()
        return out

    module = ['-m', 'mmsmmix.benchmarks.comparison.run', 'W', 'smmix', '0']
    assert line('torchrun', '2', *module) == [
        'python', '-m', 'torch.distributed.run', '--standalone',
        '--nproc_per_node=2', *module, '--launcher', 'pytorch']
    ported = line('torchrun', '2', 'train.py', 'c.py', PORT='29555')
    assert '--master_port=29555' in ported and '--standalone' not in ported
    assert ported[-3:] == ['c.py', '--launcher', 'pytorch']
    assert ported[-4].endswith('/tools/train.py')
    srun = line('srun', 'cpu', 'job', *module, GPUS='2', GPUS_PER_NODE='2',
                GRES='', CPUS_PER_TASK='1', SRUN_ARGS='--time=5')
    assert srun[:3] == ['srun', '-p', 'cpu']
    for arg in ('--job-name=job', '--ntasks=2', '--ntasks-per-node=2',
                '--cpus-per-task=1', '--kill-on-bad-exit=1', '--time=5'):
        assert arg in srun
    assert not any(a.startswith('--gres') for a in srun)
    assert srun[-7:] == ['-u', *module, '--launcher=slurm']


@pytest.mark.parametrize('name', ['fashion_mnist', 'cifar100_deit-s',
                                  'imagenet_deit-s'])
def test_shipped_suites_name_every_method(name):
    suite = load_suite(name)
    assert list(suite.methods) == list(METHODS)
    assert all(osp.isfile(m.config) for m in suite.methods.values())
    assert suite.highlight == ('smmix', 'smmix_dm')
    setting = suite.setting('default')
    assert setting['seeds'] >= 1 and setting['epochs']


def test_suite_errors_name_the_key(tmp_path):
    config = load_suite('fashion_mnist').methods['smmix'].config
    cases = [
        ('dataset = "x"\nmodel = "y"\nsettings = dict(default=dict())\n',
         "missing key 'methods'"),
        ('dataset = "x"\nmodel = "y"\nmethods = dict(mine=%r)\n'
         'settings = dict(default=dict())\n' % config,
         'methods.mine is not a toolbox method'),
        ('dataset = "x"\nmodel = "y"\nmethods = dict(smmix="nope.py")\n'
         'settings = dict(default=dict())\n', "config of method 'smmix' is "
         'not a file'),
        ('dataset = "x"\nmodel = "y"\nmethods = dict(smmix=%r)\n'
         'settings = dict(default=dict(epoch=3))\n' % config,
         r"settings.default has unknown keys \['epoch'\]"),
        ('dataset = "x"\nmodel = "y"\nmethods = dict(smmix=%r)\n'
         'settings = dict(default=dict(occlusion="0.5,1.5"))\n' % config,
         r'settings.default: .*1\.5'),
        ('dataset = "x"\nmodel = "y"\nmethods = dict(smmix=%r)\n'
         'settings = dict(default=dict(corruptions="rain"))\n' % config,
         r'settings.default: .*rain'),
    ]
    for i, (text, message) in enumerate(cases):
        path = tmp_path / f'suite{i}.py'
        path.write_text(text)
        with pytest.raises((ValueError, FileNotFoundError), match=message):
            load_suite(str(path))


@pytest.mark.slow
def test_a_kill_while_saving_leaves_a_checkpoint_to_resume(fmnist_root,
                                                           tmp_path):
    """A run stopped inside ``save_checkpoint`` of epoch 3 -- after mmengine
    deleted the oldest kept checkpoint, before the new one is written --
    still resumes (with one checkpoint kept, none would be left)."""
    from mmengine.hooks import Hook
    from mmpretrain.registry import HOOKS

    from mmsmmix.benchmarks.comparison import run_config, train_and_evaluate

    @HOOKS.register_module(name='DieBeforeSaving', force=True)
    class _Die(Hook):

        def before_save_checkpoint(self, runner, checkpoint):
            if checkpoint['meta']['epoch'] == 3:
                raise SystemExit('killed while saving epoch 3')

    suite = load_suite('fashion_mnist')
    # one step of 64 images an epoch; no corruption test (None would keep
    # the quick setting's): only the checkpoints matter here
    setting = suite.setting('quick', epochs=4, train_images=64,
                            corruptions='')
    plan = make_plan(suite, ['cutmix'], setting, device='cpu')
    work_dir = str(tmp_path / 'run')
    cfg = run_config(plan, 'cutmix', 0)  # a checkpoint every epoch
    cfg.custom_hooks = list(cfg.custom_hooks) + [dict(type='DieBeforeSaving')]
    with pytest.raises(SystemExit, match='epoch 3'):
        train_and_evaluate(cfg, work_dir, setting)
    saved = sorted(f for f in os.listdir(work_dir) if f.endswith('.pth'))
    assert saved == ['epoch_2.pth']  # epoch 1 deleted, epoch 3 never written
    result = train_and_evaluate(run_config(plan, 'cutmix', 0), work_dir,
                                setting)
    assert result['iters'] == 4 * 1  # 64 images / 64, resumed from epoch 2
    assert 'epoch_4.pth' in os.listdir(work_dir)


# ------------------------------------------------ the coordinator's messages

# A worker's log: an earlier attempt's traceback, mmengine's lines, then a
# chained traceback whose message has a second line.
EARLIER = ('Traceback (most recent call last):\n'
           '  File "run.py", line 1, in <module>\n'
           "KeyError: 'an earlier attempt'\n")
FAILED_LOG = (
    '12/03 10:00:00 - mmengine - INFO - Epoch(train) [1][2/2]  loss: 2.3\n'
    'Traceback (most recent call last):\n'
    '  File "loader.py", line 3, in load\n'
    '    open(path)\n'
    "FileNotFoundError: [Errno 2] No such file: 'x'\n"
    '\n'
    'The above exception was the direct cause of the following exception:\n'
    '\n'
    'Traceback (most recent call last):\n'
    '  File "run.py", line 9, in main\n'
    '    train()\n'
    'ValueError: lr must be > 0, got -1\n'
    '  (the message goes on)\n'
    '12/03 10:00:01 - mmengine - INFO - after the error\n')


def test_a_failed_run_shows_its_error_line(tmp_path):
    """FAILED names the exception line of this attempt's traceback and
    the log; a killed attempt that wrote none shows no older error."""
    run_dir = tmp_path / 'runs' / 'smmix' / 'seed0'
    run_dir.mkdir(parents=True)
    log = run_dir / 'run.log'
    log.write_text(EARLIER + FAILED_LOG)
    start = len(EARLIER)
    assert failure('smmix/seed0', 1, str(run_dir), start) == (
        '  FAILED smmix/seed0 (exit 1): ValueError: lr must be > 0, got -1'
        f'\n    log: {log}')
    assert last_error(str(log)) == 'ValueError: lr must be > 0, got -1'
    assert last_error(str(log), tail=len(FAILED_LOG) + 20) == \
        'ValueError: lr must be > 0, got -1'
    assert last_error(str(tmp_path / 'none.log')) is None
    assert failure('smmix/seed0', -9, str(run_dir), log.stat().st_size) == (
        '  FAILED smmix/seed0 (killed by signal 9): no error in its log'
        f'\n    log: {log}')
    # under torchrun: the rank's error, not torchrun's report of it
    dist = tmp_path / 'dist.log'
    dist.write_text(
        'Traceback (most recent call last):\n  File "run.py", line 2\n'
        'RuntimeError: rank 1: out of memory\n'
        'Traceback (most recent call last):\n  File "run.py", line 5\n'
        'torch.distributed.elastic.multiprocessing.errors.ChildFailedError:'
        ' \n============\nrun.py FAILED\n')
    assert last_error(str(dist)) == 'RuntimeError: rank 1: out of memory'


class _RaisingWorker(Launch):
    """A launcher whose worker raises at once (a bare Python: no imports)."""

    def command(self, worker, job_name, cuda, threads=1):
        return LaunchCommand([sys.executable, '-c',
                              'raise ValueError("lr must be > 0, got -1")'])


@pytest.mark.slow
def test_the_coordinator_says_what_failed_and_what_resumed(tmp_path,
                                                           capsys):
    """Two workers that raise: the coordinator says which one starts and
    which resumes (from the epoch its Runner loads), then each one's error
    line and log."""
    resumed = tmp_path / 'runs' / 'smmix' / 'seed1'
    resumed.mkdir(parents=True)
    (resumed / 'last_checkpoint').write_text(str(resumed / 'epoch_2.pth'))
    runs = [Run('smmix', 0), Run('smmix', 1)]
    failed = train_all(dict(device='cpu', setting=dict(epochs=4)), runs,
                       str(tmp_path), 2, 1, _RaisingWorker())
    out = capsys.readouterr().out
    assert sorted(failed) == runs
    assert '  started smmix/seed0\n' in out
    assert '  resumed smmix/seed1 from epoch 2\n' in out
    for seed in (0, 1):
        log = tmp_path / 'runs' / 'smmix' / f'seed{seed}' / 'run.log'
        assert f'  FAILED smmix/seed{seed} (exit 1): ValueError: lr must be ' \
            f'> 0, got -1\n    log: {log}\n' in out


def test_resume_point(tmp_path):
    """Where the Runner resumes: the checkpoint last_checkpoint names."""
    assert resume_point(str(tmp_path)) is None
    marker = tmp_path / 'last_checkpoint'
    marker.write_text('/trained/elsewhere/epoch_3.pth\n')
    assert resume_point(str(tmp_path)) == 'epoch 3'
    marker.write_text(str(tmp_path / 'iter_5000.pth'))
    assert resume_point(str(tmp_path)) == 'iteration 5000'


def test_a_changed_setting_names_only_the_changed_keys(tmp_path):
    suite = load_suite('fashion_mnist')
    options = {'optim_wrapper.optimizer.betas': (0.9, 0.99),
               'train_dataloader.batch_size': 32,
               'data_preprocessor.mean': [72.9]}

    def plan(options, **overrides):
        return make_plan(suite, ['cutmix', 'smmix'],
                         suite.setting('quick', options, **overrides),
                         device='cpu')

    work_dir = str(tmp_path)
    load_plan(work_dir, plan(options))
    # the same setting (its tuple read back as a list), more seeds: resumed
    assert load_plan(work_dir, plan(options, seeds=3))['setting']['seeds'] \
        == 3
    changed = {'optim_wrapper.optimizer.betas': (0.9, 0.99),
               'train_dataloader.batch_size': 16,
               'model.backbone.drop_path_rate': 0.1}
    with pytest.raises(SettingChanged) as err:
        load_plan(work_dir, plan(changed, epochs=2))
    changes = [
        'cfg_options.data_preprocessor.mean: [72.9] there, unset now',
        'cfg_options.model.backbone.drop_path_rate: unset there, 0.1 now',
        'cfg_options.train_dataloader.batch_size: 32 there, 16 now',
        'epochs: 1 there, 2 now']
    assert str(err.value) == (
        f"{work_dir} holds a comparison with another setting: "
        f"{'; '.join(changes)}. Give another --work-dir for this one, or "
        'the options of that one (only --seeds and --methods may change)')
    other = plan(options)
    other['device'] = 'cuda'
    other['configs']['smmix'] = '/elsewhere/smmix.py'
    assert setting_changes(plan(options), other) == [
        "device: 'cpu' there, 'cuda' now",
        f"config of smmix: {suite.methods['smmix'].config} there, "
        '/elsewhere/smmix.py now']


def test_a_changed_setting_is_one_line_exit_2(fmnist_root, tmp_path,
                                              capsys):
    """--print-commands plans the comparison (and trains nothing); the
    same work dir with other epochs is refused in one line, exit 2."""
    args = ['--quick', '--methods', 'cutmix', '--work-dir', str(tmp_path)]
    assert load_tool(TOOL).main(args + ['--print-commands']) == 0
    message = _refused(*args, '--epochs', '3', capsys=capsys)
    assert 'another setting: epochs: 1 there, 3 now. Give another ' \
        '--work-dir' in message and len(message) < 400 + len(str(tmp_path))


def test_a_misspelt_method_names_the_close_one(capsys):
    message = _refused('--quick', '--methods', 'cutmix,smmx', capsys=capsys)
    assert message.startswith(
        "tools/benchmark/compare_mixing.py: --methods: unknown method 'smmx': "
        "suite 'fashion_mnist' has nomix, mixup, cutmix, mixup_cutmix, "
        'resizemix, fmix, transmix, mixpro, smmix, smmix_dm, rankmixup; did '
        "you mean 'smmix'?")
    message = _refused('--quick', '--methods', 'qqq', capsys=capsys)
    assert "unknown method 'qqq'" in message and 'did you mean' not in message
    with pytest.raises(ComparisonError, match="'smmix'.*'fmix'"):
        check_methods(['smmx', 'fmixx'], load_suite('fashion_mnist'))


def test_the_timing_warmup_scales_and_is_stated():
    import dataclasses
    suite = load_suite('fashion_mnist')
    assert suite.setting('default')['timing_warmup'] == 2  # the suite's
    assert suite.setting('default', timing_warmup=0)['timing_warmup'] == 0
    own = dataclasses.replace(suite, settings=dict(default=dict(
        timing_rounds=50)))
    assert own.setting('default')['timing_warmup'] == 5  # a tenth
    assert own.setting('default', timing_rounds=5)['timing_warmup'] == 1
    assert own.setting('default', timing_rounds=0)['timing_warmup'] == 0
    plan = make_plan(own, ['cutmix'], own.setting('default'), device='cpu',
                     machine='a CPU', date='2026-12-03')
    _, _, where = describe(plan, {0}, dict(batch_size=64, threads=2,
                                           rounds=50, warmup=5))
    assert where == ('2026-12-03; a CPU; device cpu; step time: mean of 50 '
                     'round-robin steps of batch 64 at 2 thread(s), after 5 '
                     'warm-up steps of each method')
    _, _, where = describe(plan, {0}, dict(batch_size=64, threads=2,
                                           rounds=1, warmup=1))
    assert where.endswith('mean of 1 round-robin step of batch 64 at 2 '
                          'thread(s), after 1 warm-up step of each method')


def test_timing_options_are_checked(capsys):
    assert '--timing-warmup must be >= 0' in _refused(
        '--quick', '--timing-warmup', '-1', capsys=capsys)
    assert '--timing-rounds must be >= 1' in _refused(
        '--quick', '--timing-rounds', '0', capsys=capsys)


def test_suite_files_take_package_config_names(tmp_path):
    """``mmsmmix::`` and ``mmpretrain::`` names, in .py and YAML suites,
    are the files mmengine's config loader finds for them."""
    import mmpretrain
    ours = 'mmsmmix::fashion_mnist/vit-mini-p7_cutmix_1xb64_fmnist.py'
    theirs = 'mmpretrain::resnet/resnet18_8xb32_in1k.py'
    (tmp_path / 'names.py').write_text(
        'dataset = "x"\nmodel = "y"\n'
        f'methods = dict(cutmix={ours!r}, mine=dict(config={theirs!r}, '
        'label="ResNet-18"))\nsettings = dict(default=dict())\n')
    (tmp_path / 'names.yaml').write_text(
        f'dataset: x\nmodel: y\nmethods:\n  cutmix: "{ours}"\n'
        f'  mine: {{config: "{theirs}", label: ResNet-18}}\n'
        'settings: {default: {}}\n')
    for name in ('names.py', 'names.yaml'):
        suite = load_suite(str(tmp_path / name))
        assert osp.samefile(suite.methods['cutmix'].config, osp.join(
            REPO_ROOT, 'configs', 'fashion_mnist',
            'vit-mini-p7_cutmix_1xb64_fmnist.py'))
        assert osp.samefile(suite.methods['mine'].config, osp.join(
            osp.dirname(mmpretrain.__file__), '.mim', 'configs', 'resnet',
            'resnet18_8xb32_in1k.py'))
    (tmp_path / 'bad.py').write_text(
        'dataset = "x"\nmodel = "y"\nmethods = dict(cutmix='
        '"mmsmmix::fashion_mnist/nope.py")\nsettings = dict(default={})\n')
    with pytest.raises(FileNotFoundError, match="the config of method "
                       "'cutmix' is not found: 'mmsmmix::fashion_mnist/"
                       "nope.py'"):
        load_suite(str(tmp_path / 'bad.py'))


def _nested(options: dict) -> dict:
    """Dotted keys as nested dicts, dict values merged key by key (as
    ``Config.merge_from_dict`` applies them)."""
    tree = {}
    for key, value in options.items():
        *parents, leaf = key.split('.')
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        if isinstance(value, dict):
            value = _nested(value)
            for sub, item in value.items():
                node.setdefault(leaf, {})[sub] = item
        else:
            node[leaf] = value
    return tree


SUITE_OPTIONS = {
    'model.backbone.patch_size': 4,
    'optim_wrapper.optimizer': {'lr': 0.001, 'betas': (0.9, 0.99)},
    'data_preprocessor.mean': [72.94],
    'custom_imports.imports': ['mmsmmix'],
    'env_cfg': {'cudnn_benchmark': False, 'mp_cfg': {
        'opencv_num_threads': 0}},
}


def test_printed_commands_run_as_printed(fmnist_root, tmp_path, capsys):
    """Every --print-commands line of a suite whose cfg_options hold dicts,
    lists and tuples, split as a shell splits it and parsed by
    tools/train.py's own parser, gives back exactly the run's overrides:
    the suite's cfg_options, the command line's, and the comparison's."""
    suite_file = tmp_path / 'opts.py'
    suite_file.write_text(
        'dataset = "Fashion-MNIST"\nmodel = "ViT"\nmethods = dict(\n'
        "    cutmix='mmsmmix::fashion_mnist/vit-mini-p7_cutmix_1xb64_fmnist"
        ".py',\n"
        "    smmix='mmsmmix::fashion_mnist/vit-mini-p7_smmix_1xb64_fmnist"
        ".py')\n"
        f'cfg_options = {SUITE_OPTIONS!r}\n'
        'settings = dict(default=dict(epochs=1, seeds=2, train_images=128))'
        '\n')
    work_dir = str(tmp_path / 'cmp')
    tool = load_tool(TOOL)
    capsys.readouterr()
    assert tool.main(['--suite', str(suite_file), '--print-commands',
                      '--work-dir', work_dir, '--cfg-options',
                      'train_dataloader.batch_size=32']) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    setting = load_suite(str(suite_file)).setting(
        'default', {'train_dataloader.batch_size': 32})
    train = load_tool('tools/train.py')
    seen = set()
    for line in lines:
        argv = shlex.split(line)
        assert argv[:2] == ['python', osp.join(REPO_ROOT, 'tools',
                                               'train.py')]
        args = train.parse_args(argv[2:])
        method, seed = osp.relpath(args.work_dir, work_dir).split(os.sep)[1:]
        seen.add((method, seed))
        expected = cfg_options(setting, int(seed[len('seed'):]), 1)
        got = _nested(args.cfg_options)
        assert got == _nested(expected)
        assert {k: v for k, v in got.items() if k in (
            'optim_wrapper', 'data_preprocessor', 'custom_imports',
            'env_cfg')} == _nested(
                {k: v for k, v in SUITE_OPTIONS.items()
                 if not k.startswith('model.')})
        assert got['model']['backbone']['patch_size'] == 4
        assert isinstance(got['optim_wrapper']['optimizer']['betas'], tuple)
        assert args.config.endswith(f'vit-mini-p7_{method}_1xb64_fmnist.py')
    assert seen == {(m, f'seed{s}') for m in ('cutmix', 'smmix')
                    for s in (0, 1)}


def test_options_a_command_line_cannot_give_are_refused():
    assert command_options({'a': {'b': [1, (2, 3)], 'c': None}, 'd': ''}) \
        == ['a.b=[1,(2,3)]', 'a.c=None', 'd=']
    for value in ('x,y', 'two words', '1', [dict(type='X')], {}):
        with pytest.raises(ComparisonError, match='cannot give '
                           r'model\.head\.x='):
            command_options({'model.head.x': value})
