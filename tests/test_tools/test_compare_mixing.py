"""tools/benchmark/compare_mixing.py: --quick trains every method on real
Fashion-MNIST and writes the table and chart; a second call resumes without
retraining; the summary maths against hand computations; the mixing-op
timer leaves the model's forwards out."""
import json
import os
import os.path as osp
import subprocess
import sys
import time

import pytest
import torch
from mmengine.config import Config
from PIL import Image

import mmsmmix  # noqa: F401
from mmsmmix.evaluation.comparison import (METHODS, SETTINGS, cfg_options,
                                           check_methods, markdown_table,
                                           summarise, verdict)
from mmsmmix.evaluation.timing import (build_model, mixing_op_seconds,
                                       real_batch)
from tests.conftest import FMNIST_CONFIGS, REPO_ROOT

TOOL = osp.join(REPO_ROOT, 'tools', 'benchmark', 'compare_mixing.py')


def _compare(*args, check=True):
    proc = subprocess.run([sys.executable, TOOL, *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=600)
    output = proc.stdout + proc.stderr
    if check:
        assert proc.returncode == 0, output[-4000:]
    return proc.returncode, output


@pytest.fixture(scope='module')
def quick(fmnist_root, tmp_path_factory):
    work_dir = str(tmp_path_factory.mktemp('compare'))
    _, output = _compare('--quick', '--work-dir', work_dir)
    return work_dir, output


@pytest.mark.slow
def test_quick_trains_every_method_and_writes_table_and_chart(quick):
    work_dir, output = quick
    with open(osp.join(work_dir, 'comparison.md')) as f:
        table = f.read()
    for label, _ in METHODS.values():
        assert f'| {label} | 1 |' in table
    assert 'Best top-1:' in output and 'ETA' in output
    assert 'Mixing ops cost at most' in output
    with open(osp.join(work_dir, 'comparison.json')) as f:
        rows = json.load(f)['rows']
    assert [r['method'] for r in rows] == list(METHODS)
    cutmix = next(r for r in rows if r['method'] == 'cutmix')
    assert cutmix['step_ratio'] == pytest.approx(1.0)
    assert all(0 <= r['top1'] <= 100 and r['mixing_share'] is not None
               for r in rows)
    # top-1 on the 200 quick test images: a multiple of 0.5 %
    assert all(abs(r['top1'] * 2 - round(r['top1'] * 2)) < 1e-6
               for r in rows)
    with Image.open(osp.join(work_dir, 'comparison.png')) as png:
        assert png.size == (1500, 480)


@pytest.mark.slow
def test_second_call_resumes_without_retraining(quick):
    work_dir, _ = quick
    result = osp.join(work_dir, 'runs', 'smmix', 'seed0', 'result.json')
    before = os.stat(result).st_mtime_ns
    _, output = _compare('--quick', '--work-dir', work_dir)
    assert '11 of 11 runs already finished; training 0' in output
    assert 'started' not in output
    assert os.stat(result).st_mtime_ns == before
    _, output = _compare('--quick', '--work-dir', work_dir, '--report-only')
    assert 'started' not in output and 'already finished' not in output
    assert '| SMMix | 1 |' in output
    # another setting in the same work dir is refused, naming what differs
    code, output = _compare('--quick', '--epochs', '2', '--work-dir',
                            work_dir, check=False)
    assert code != 0 and 'another setting: epochs 1 there, 2 now' in output


@pytest.mark.slow
def test_adding_a_seed_trains_only_that_seed(quick):
    work_dir, _ = quick
    _, output = _compare('--quick', '--methods', 'cutmix,smmix', '--seeds',
                         '2', '--work-dir', work_dir)
    assert '2 of 4 runs already finished; training 2' in output
    assert 'started cutmix/seed1' in output and 'seed0' not in output
    assert '| SMMix | 2 |' in output


def test_bad_options_are_named(fmnist_root, tmp_path):
    code, output = _compare('--quick', '--methods', 'cutmix,saliencymix',
                            check=False)
    assert code != 0 and "unknown methods ['saliencymix']" in output
    code, output = _compare('--quick', '--config-dir', '/nonexistent',
                            check=False)
    assert code != 0 and '--config-dir: /nonexistent is not a folder' in \
        output
    code, output = _compare('--quick', '--train-images', '100000',
                            '--work-dir', str(tmp_path), check=False)
    assert code != 0 and ('--train-images 100000: the training set has '
                          '60000 images') in output
    with pytest.raises(ValueError, match='twice'):
        check_methods(['smmix', 'smmix'])


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
    rows = summarise(['nomix', 'cutmix', 'smmix'], results, timing)
    nomix, cutmix, smmix = rows
    assert nomix['runs'] == 0 and nomix['step_ratio'] == pytest.approx(0.5)
    assert cutmix['top1'] == pytest.approx(82.)
    assert cutmix['top1_std'] == pytest.approx(2.)  # sample std of 80/82/84
    assert cutmix['ece'] == pytest.approx(7.)
    assert cutmix['corruption_top1'] == pytest.approx(62.)
    assert cutmix['mixing_share'] == pytest.approx(0.01)  # 0.02 / 2
    assert smmix['step_ratio'] == pytest.approx(1.5)  # 3.0 / 2.0
    assert smmix['mixing_share'] == pytest.approx(0.02)
    table = markdown_table(rows)
    assert '| SMMix | 1 | **83.00 ± 0.00** | 4.00 | 61.00 | 1.50x | 2.00 |' \
        in table
    assert '| no mixing | 0 | – |' in table
    assert verdict(rows) == (
        'Best top-1: SMMix (83.00 ± 0.00 over 1 run(s)), 1.00 points ahead '
        'of CutMix (a single run: no spread measured).')
    results['smmix'].append(dict(top1=87., ece=4., corruption_top1=61.))
    rows = summarise(['cutmix', 'smmix'], results, timing)
    # SMMix 85 ± 2.83 vs CutMix 82 ± 2: the gap 3 exceeds both
    assert verdict(rows).endswith(
        '3.00 points ahead of CutMix (more than one standard deviation).')


def test_cfg_options_apply_the_setting():
    options = cfg_options(SETTINGS['default'], seed=2)
    cfg = Config.fromfile(osp.join(FMNIST_CONFIGS, METHODS['smmix'][1]))
    cfg.merge_from_dict(options)
    assert cfg.model.backbone.patch_size == 4
    assert cfg.train_dataloader.dataset.indices == 5000
    assert cfg.randomness.seed == 2
    assert cfg.train_cfg.val_begin > cfg.train_cfg.max_epochs


def test_mixing_op_time_leaves_the_forwards_out(fmnist_root):
    cfg = Config.fromfile(osp.join(FMNIST_CONFIGS, METHODS['rankmixup'][1]))
    cfg.merge_from_dict(cfg_options(SETTINGS['quick'], seed=0))
    model, _ = build_model(cfg, torch.device('cpu'))
    data = real_batch(cfg.train_dataloader.dataset, 8)
    baseline = mixing_op_seconds(model, model.augments[0], data,
                                 torch.device('cpu'))
    slow = model.extract_feat

    def slow_extract_feat(*args, **kwargs):
        time.sleep(1.0)
        return slow(*args, **kwargs)

    model.extract_feat = slow_extract_feat
    # RankMixup's op forwards the mixed batches, and the dispatch forwards
    # the returned (clean) batch: 2 s of sleeping in forwards, which would
    # all be counted if the timer did not leave the forwards out.
    seconds = mixing_op_seconds(model, model.augments[0], data,
                                torch.device('cpu'))
    assert seconds < baseline + 1.0
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
        if 'mmsmmix.evaluation.comparison.run' in cmd and work_dir in cmd \
                and not zombie:
            pids.append(int(entry))
    return pids


@pytest.mark.slow
def test_locked_work_dir_and_no_orphans_after_kill_9(fmnist_root, tmp_path):
    """A second coordinator on a busy work dir is refused naming the
    holder; ``kill -9`` of the coordinator takes its worker with it; the
    rerun takes the lock over and resumes the interrupted run."""
    work_dir = str(tmp_path / 'cmp')
    args = [sys.executable, TOOL, '--quick', '--methods', 'smmix', '--epochs',
            '6', '--train-images', '1024', '--work-dir', work_dir]
    coordinator = subprocess.Popen(args, cwd=REPO_ROOT,
                                   stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
    run_dir = osp.join(work_dir, 'runs', 'smmix', 'seed0')
    deadline = time.time() + 300
    while not osp.isfile(osp.join(run_dir, 'epoch_1.pth')):
        assert coordinator.poll() is None and time.time() < deadline
        time.sleep(0.5)
    workers = _workers_of(work_dir)
    assert len(workers) == 1

    code, output = _compare(*args[2:], check=False)
    assert code != 0
    assert f'is in use by another comparison (pid {coordinator.pid})' in \
        output

    coordinator.kill()  # SIGKILL: no handler runs
    coordinator.wait()
    deadline = time.time() + 60  # the kernel's SIGTERM, then its exit
    while _workers_of(work_dir):
        assert time.time() < deadline, 'the worker outlived its coordinator'
        time.sleep(0.5)
    assert not osp.isfile(osp.join(run_dir, 'result.json'))

    _, output = _compare(*args[2:])
    assert '0 of 1 runs already finished; training 1' in output
    log = open(osp.join(run_dir, 'run.log')).read()
    assert 'resumed' in log.lower() or 'load checkpoint' in log.lower()
    assert osp.isfile(osp.join(run_dir, 'result.json'))
