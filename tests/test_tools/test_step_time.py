"""tools/benchmark/step_time.py: its variants come from configs/smmix/ and
one short run reports every number it promises (no timing limits: only
that the measurement is complete and consistent)."""
import json
import subprocess
import sys

import pytest

from mmsmmix.evaluation.step_time import VARIANTS, variant_config
from tests.conftest import REPO_ROOT


def test_variants_are_the_smmix_configs():
    augments = {
        v: variant_config(v).model.train_cfg.augments
        for v in VARIANTS
    }
    assert augments['nomix'] == []
    assert [a['type'] for a in augments['mixup']] == ['Mixup']
    assert [a['type'] for a in augments['cutmix']] == ['CutMix']
    assert augments['smmix']['type'] == 'SMMix'
    assert augments['smmix']['switch_prob'] == 1.0
    for v in VARIANTS:
        cfg = variant_config(v)
        assert cfg.model.backbone.arch == 'deit-tiny'
        assert cfg.model.type == 'MixImageClassifier'
    with pytest.raises(ValueError, match='variant'):
        variant_config('fmix')


def test_one_short_run_reports_everything(tmp_path):
    out = tmp_path / 'step_time.json'
    proc = subprocess.run(
        [sys.executable, 'tools/benchmark/step_time.py', '--rounds', '1',
         '--warmup', '0', '--batch-size', '2', '--mix-reps', '1',
         '--threads', '1', '--no-memory', '--json', str(out)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert set(result['step_s']) == set(VARIANTS)
    assert all(len(result['step_s_all'][v]) == 1 for v in VARIANTS)
    assert result['ratio_to_cutmix']['cutmix'] == 1.0
    assert all(result['step_s'][v] > 0 for v in VARIANTS)
    # The clean forward and the mixing ops are parts of the SMMix step.
    assert 0 < result['clean_forward_s'] < result['step_s']['smmix']
    assert 0 < result['mixing_ops_s'] < result['step_s']['smmix']
    for line in ('| SMMix branch |', 'SMMix-branch step', 'mixing'):
        assert line in proc.stdout
    bad = subprocess.run(
        [sys.executable, 'tools/benchmark/step_time.py', '--rounds', '0'],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and '--rounds must be >= 1' in bad.stderr
