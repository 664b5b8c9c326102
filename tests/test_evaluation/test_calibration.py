"""Tests of the calibration functions and the ECE metric against hand sums.

Bins are ``(lo, hi]`` (the common implementation of Guo et al., 2017): a
confidence exactly on an edge belongs to the lower bin, and 1.0 to the last.
"""
import glob
import json
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmpretrain.registry import METRICS
from mmpretrain.structures import DataSample
from PIL import Image

import mmsmmix  # noqa: F401
from mmsmmix.evaluation import (ECE, calibration_errors,
                                draw_reliability_diagram)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# 8 samples, 4 classes, 5 bins: (0,.2] (.2,.4] (.4,.6] (.6,.8] (.8,1].
# Each row's maximum is its confidence; the label makes it right or wrong.
PROBS = [
    [.30, .25, .25, .20],  # a: conf .3,  pred 0, label 0: right, bin 1
    [.20, .40, .20, .20],  # b: conf .4,  pred 1, label 0: wrong, bin 1 (edge)
    [.60, .20, .10, .10],  # c: conf .6,  pred 0, label 2: wrong, bin 2 (edge)
    [.10, .50, .20, .20],  # d: conf .5,  pred 1, label 1: right, bin 2
    [.20, .20, .50, .10],  # e: conf .5,  pred 2, label 2: right, bin 2
    [.05, .05, .90, .00],  # f: conf .9,  pred 2, label 2: right, bin 4
    [.90, .05, .05, .00],  # g: conf .9,  pred 0, label 3: wrong, bin 4
    [.00, .00, .00, 1.0],  # h: conf 1.0, pred 3, label 3: right, bin 4 (edge)
]
LABELS = [0, 0, 2, 1, 2, 2, 3, 3]
# bin 0: empty (4 classes: confidence >= .25)
# bin 1: {a, b}     conf (.3 + .4) / 2 = .35,     acc 1/2, gap .15
# bin 2: {c, d, e}  conf (.6 + .5 + .5) / 3 = 1.6/3, acc 2/3, gap .4/3
# bin 3: empty
# bin 4: {f, g, h}  conf (.9 + .9 + 1) / 3 = 2.8/3,  acc 2/3, gap .8/3
# ECE = (2 * .15 + 3 * .4/3 + 3 * .8/3) / 8 = (.3 + .4 + .8) / 8 = .1875
# MCE = .8/3 (bin 4)
# With [lo, hi) bins, b would join bin 2 and c bin 3:
# (1 * .7 + 3 * .2 + 1 * .6 + 3 * .8/3) / 8 = 2.7/8, MCE .7.
HAND_COUNTS = [0, 2, 3, 0, 3]
HAND_CONF = [0., .35, 1.6 / 3, 0., 2.8 / 3]
HAND_ACC = [0., .5, 2 / 3, 0., 2 / 3]
HAND_ECE = .1875
HAND_MCE = .8 / 3


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_hand_bins_with_edges_and_empty_bins(dtype):
    # float32 edges are i/5 in float32, so float32 .4 and .6 sit on them.
    out = calibration_errors(
        torch.tensor(PROBS, dtype=dtype), torch.tensor(LABELS), n_bins=5)
    assert out['bin_counts'] == HAND_COUNTS
    assert out['bin_confidence'] == pytest.approx(HAND_CONF, abs=1e-6)
    assert out['bin_accuracy'] == pytest.approx(HAND_ACC, abs=1e-12)
    assert out['ece'] == pytest.approx(HAND_ECE, abs=1e-6)
    assert out['mce'] == pytest.approx(HAND_MCE, abs=1e-6)
    assert out['n_samples'] == 8
    assert out['bin_edges'] == pytest.approx([0., .2, .4, .6, .8, 1.])


def test_nll_is_cross_entropy_of_log_probs():
    probs = torch.softmax(torch.randn(20, 6) * 3, dim=1)
    labels = torch.randint(0, 6, (20, ))
    out = calibration_errors(probs, labels)
    expected = F.cross_entropy(probs.double().log(), labels).item()
    assert out['nll'] == pytest.approx(expected, rel=1e-6)


def test_nll_of_a_zero_probability_is_clamped():
    # sample 1 gives its label probability 0: -log(tiny float32) ~ 87.34
    probs = torch.tensor([[.5, .5], [1., 0.]])
    out = calibration_errors(probs, torch.tensor([0, 1]))
    tiny = torch.finfo(torch.float32).tiny
    expected = (-torch.tensor(.5).log() - torch.tensor(tiny).log()) / 2
    assert out['nll'] == pytest.approx(expected.item(), rel=1e-6)


def test_perfectly_calibrated_set_has_zero_ece():
    # 4 bins (0,.25] (.25,.5] (.5,.75] (.75,1]; both confidences on edges:
    # conf .75 -> bin 2, 3 of 4 right; conf .5 -> bin 1, 1 of 2 right
    probs = [[.75, .25]] * 4 + [[.5, .5]] * 2  # ties go to class 0
    labels = [0, 0, 0, 1, 0, 1]
    out = calibration_errors(torch.tensor(probs), torch.tensor(labels),
                             n_bins=4)
    assert out['bin_counts'] == [0, 2, 4, 0]
    assert out['ece'] == 0.
    assert out['mce'] == 0.
    # one wrong label more makes it overconfident: |.5 - .75| * 4/6
    labels[1] = 1
    out = calibration_errors(torch.tensor(probs), torch.tensor(labels),
                             n_bins=4)
    assert out['ece'] == pytest.approx(.25 * 4 / 6)


def _data_samples(rows):
    return [
        DataSample().set_pred_score(torch.tensor(PROBS[i])).set_gt_label(
            LABELS[i]) for i in rows
    ]


def test_metric_process_and_compute_in_percent():
    metric = ECE(n_bins=5)
    metric.process(None, _data_samples(range(0, 3)))  # two batches
    metric.process(None, _data_samples(range(3, 8)))
    out = metric.compute_metrics(metric.results)
    assert set(out) == {'ece', 'mce', 'nll'}
    assert out['ece'] == pytest.approx(100 * HAND_ECE, abs=1e-4)
    assert out['mce'] == pytest.approx(100 * HAND_MCE, abs=1e-4)
    expected_nll = calibration_errors(torch.tensor(PROBS),
                                      torch.tensor(LABELS))['nll']
    assert out['nll'] == pytest.approx(expected_nll)


def test_metric_through_evaluator_from_registry():
    evaluator = Evaluator(METRICS.build(dict(type='ECE', n_bins=5)))
    evaluator.process(_data_samples(range(8)))
    out = evaluator.evaluate(8)
    assert out['calibration/ece'] == pytest.approx(100 * HAND_ECE, abs=1e-4)
    assert out['calibration/mce'] == pytest.approx(100 * HAND_MCE, abs=1e-4)


def test_dump_dir_writes_diagram_and_json(tmp_path):
    dump_dir = tmp_path / 'new' / 'calib'  # created by the metric
    metric = ECE(n_bins=5, dump_dir=str(dump_dir))
    metric.process(None, _data_samples(range(8)))
    metric.compute_metrics(metric.results)
    png = dump_dir / 'reliability_diagram.png'
    assert png.stat().st_size > 0
    with Image.open(png) as img:
        assert img.format == 'PNG'
        assert img.size == (500, 600)  # default figsize (5, 6) at 100 dpi
    saved = json.loads((dump_dir / 'calibration.json').read_text())
    assert saved['bin_counts'] == HAND_COUNTS
    assert saved['ece'] == pytest.approx(HAND_ECE, abs=1e-6)


def test_draw_reliability_diagram_size(tmp_path):
    bins = calibration_errors(torch.tensor(PROBS), torch.tensor(LABELS), 5)
    path = draw_reliability_diagram(bins, str(tmp_path / 'r.png'),
                                    figsize=(3, 4), dpi=50)
    with Image.open(path) as img:
        assert img.size == (150, 200)


@pytest.mark.parametrize('n_bins', [0, -3, 2.5, True])
def test_bad_n_bins_raises(n_bins):
    with pytest.raises(ValueError, match='n_bins'):
        ECE(n_bins=n_bins)
    with pytest.raises(ValueError, match='n_bins'):
        calibration_errors(torch.tensor(PROBS), torch.tensor(LABELS), n_bins)


def test_fashion_mnist_configs_report_accuracy_then_ece():
    configs = glob.glob(osp.join(REPO_ROOT, 'configs', 'fashion_mnist',
                                 '*.py'))
    assert configs
    for path in configs:
        cfg = Config.fromfile(path)
        for evaluator in (cfg.val_evaluator, cfg.test_evaluator):
            assert [m['type'] for m in evaluator] == ['Accuracy', 'ECE']
