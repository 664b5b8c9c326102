"""tools/benchmark/step_time.py: its variants come from configs/smmix/
(DeiT-Tiny's pair, or Swin-T's or PVT-v2-B2's with ``--model``) and one
short run reports every number it promises, with the CPU's instruction set
and bfloat16 support (no timing limits or speed relations: only that the
measurement is complete and its arithmetic consistent)."""
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config

import mmsmmix  # noqa: F401
from mmsmmix.benchmarks.comparison import load_suite
from mmsmmix.benchmarks.step_time import (BASE_VARIANTS, MODELS,
                                          SUITE_VARIANTS, VARIANTS,
                                          model_variants, variant_config)
from mmsmmix.benchmarks.timing import build_model
from mmsmmix.registry import config_dir
from tests.helpers import refused
from tests.tool_process import run_tool_process

TOOL = 'tools/benchmark/step_time.py'


def test_variants_are_the_smmix_configs():
    augments = {
        v: variant_config(v).model.train_cfg.augments
        for v in VARIANTS
    }
    assert augments['nomix'] == []
    assert [a['type'] for a in augments['mixup']] == ['Mixup']
    assert [a['type'] for a in augments['cutmix']] == ['CutMix']
    for v in ('smmix', 'smmix_bf16'):
        assert augments[v]['type'] == 'SMMix'
        assert augments[v]['switch_prob'] == 1.0
    assert 'motivating_dtype' not in augments['smmix']  # the official pass
    assert augments['smmix_bf16']['motivating_dtype'] == 'bfloat16'
    for v in VARIANTS:
        cfg = variant_config(v)
        assert cfg.model.backbone.arch == 'deit-tiny'
        assert cfg.model.type == 'MixImageClassifier'
    assert augments['cutmix'] == [dict(type='CutMix', alpha=1.0)]
    with pytest.raises(ValueError, match='variant'):
        variant_config('saliencymix')


@pytest.mark.parametrize('model,backbone', [
    ('swin-tiny', 'SwinTransformer'),
    ('pvt-v2-b2', 'PyramidVisionTransformerV2')])
def test_model_option_takes_its_config_pair(model, backbone):
    """CutMix alone from the model's baseline config, SMMix every step from
    its SMMix config; the suite's DeiT-S methods stay DeiT-Tiny's."""
    pair = MODELS[model]
    assert model_variants(model) == BASE_VARIANTS
    assert model_variants('deit-tiny') == VARIANTS
    baseline = Config.fromfile(osp.join(config_dir(), pair.baseline))
    smmix = Config.fromfile(osp.join(config_dir(), pair.smmix))
    cutmix = variant_config('cutmix', model)
    assert cutmix.model.train_cfg == dict(augments=[
        a for a in baseline.model.train_cfg.augments if a.type == 'CutMix'])
    assert cutmix.model.backbone == baseline.model.backbone
    assert cutmix.model.head == baseline.model.head
    assert variant_config('nomix', model).model.train_cfg.augments == []
    for v in ('smmix', 'smmix_bf16'):
        cfg = variant_config(v, model)
        assert cfg.model.backbone == smmix.model.backbone
        assert cfg.model.backbone.type == backbone
        assert cfg.model.head.type == 'SMMixClsHead'
        augments = cfg.model.train_cfg.augments
        assert augments.type == 'SMMix' and augments.switch_prob == 1.0
        assert augments.get('motivating_dtype') == (
            'bfloat16' if v == 'smmix_bf16' else None)
        assert {k: a for k, a in augments.items()
                if k not in ('switch_prob', 'motivating_dtype')} == {
                    k: a for k, a in smmix.model.train_cfg.augments.items()
                    if k != 'switch_prob'}
    with pytest.raises(ValueError, match='on ' + model):
        variant_config('transmix', model)
    with pytest.raises(ValueError, match='model must be one of'):
        variant_config('cutmix', 'vit-base')


@pytest.mark.slow  # builds a 224 px DeiT-T per method
def test_suite_variants_are_the_methods_imagenet_configs_on_deit_tiny():
    suite = load_suite('imagenet_deit-s')
    for v in SUITE_VARIANTS:
        cfg = variant_config(v)
        imagenet = Config.fromfile(suite.methods[v].config)
        assert cfg.model.train_cfg == imagenet.model.train_cfg
        assert cfg.model.head.in_channels == 192
        model, _ = build_model(cfg, torch.device('cpu'))
        assert sum(p.numel() for p in model.backbone.parameters()) < 6e6


@pytest.mark.slow
def test_one_short_run_reports_everything(tmp_path):
    out = tmp_path / 'step_time.json'
    variants = ['cutmix', 'smmix', 'smmix_bf16']
    proc = run_tool_process(
        TOOL, '--rounds', '1', '--warmup', '0',
        '--batch-size', '2', '--mix-reps', '1', '--threads', '1',
        '--no-memory', '--variants', ','.join(variants), '--json', str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result['precisions'] == ['fp32', 'bf16']
    for p in ('fp32', 'bf16'):
        assert set(result['step_s'][p]) == set(variants)
        assert all(len(result['step_s_all'][p][v]) == 1 for v in variants)
        assert result['ratio_to_cutmix'][p]['cutmix'] == 1.0
        assert all(result['step_s'][p][v] > 0 for v in variants)
    for v in variants:  # bf16 / fp32 of one round: the ratio of its steps
        assert result['bf16_over_fp32'][v] == pytest.approx(
            result['step_s']['bf16'][v] / result['step_s']['fp32'][v])
        assert result['ratio_of_medians_to_cutmix']['fp32'][v] == \
            pytest.approx(result['step_s']['fp32'][v] /
                          result['step_s']['fp32']['cutmix'])
    # Every part of the SMMix step is reported, with consistent shares;
    # which one is faster is the benchmark's finding, never asserted.
    smmix = result['step_s']['fp32']['smmix']
    for key in ('clean_forward_s', 'clean_forward_bf16_s', 'mixing_ops_s',
                'eval_forward_without_probe_s'):
        assert 0 < result[key] < float('inf'), key
    assert result['mixing_share_of_smmix_step'] == pytest.approx(
        result['mixing_ops_s'] / smmix)
    assert result['smmix_minus_cutmix_s'] == pytest.approx(
        smmix - result['step_s']['fp32']['cutmix'])
    assert result['pass']['step_ratio'] == (
        result['ratio_to_cutmix']['fp32']['smmix'] <=
        result['targets']['smmix_step_ratio_max'])
    env = result['env']
    assert env['cpu_capability'] == torch.backends.cpu.get_cpu_capability()
    assert isinstance(env['cpu_bf16_native'], bool) and env['cpu_bf16']
    header = proc.stdout.split('\n|')[0]
    native = 'native' if env['cpu_bf16_native'] else 'emulated'
    assert f"CPU capability {env['cpu_capability']}" in header
    assert f'bfloat16 {native}' in header
    for line in ('| SMMix branch |', '| SMMix branch, bf16 motivating pass',
                 'SMMix-branch step', 'with the bf16 motivating pass',
                 'mixing', 'bf16 / fp32'):
        assert line in proc.stdout


@pytest.mark.slow  # 15-17 s each on 2 cores (6 Swin-T or PVT-v2-B2)
@pytest.mark.parametrize('model,label', [('swin-tiny', 'Swin-T'),
                                         ('pvt-v2-b2', 'PVT-v2-B2')])
def test_one_short_run_of_another_model(tmp_path, model, label):
    out = tmp_path / 'step_time.json'
    variants = ['cutmix', 'smmix', 'smmix_bf16']
    proc = run_tool_process(
        TOOL, '--model', model, '--rounds', '1', '--warmup', '0',
        '--batch-size', '2', '--mix-reps', '1', '--threads', '1',
        '--no-memory', '--variants', ','.join(variants), '--json', str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result['env']['model'] == model
    assert result['env']['configs'] == dict(
        baseline=MODELS[model].baseline, smmix=MODELS[model].smmix)
    for p in ('fp32', 'bf16'):
        assert set(result['step_s'][p]) == set(variants)
        assert result['ratio_to_cutmix'][p]['cutmix'] == 1.0
        assert all(result['step_s'][p][v] > 0 for v in variants)
    for key in ('clean_forward_s', 'clean_forward_bf16_s', 'mixing_ops_s'):
        assert 0 < result[key] < float('inf'), key
    assert f'## Training-step time, {label} 224px, batch 2, CPU' in \
        proc.stdout
    for line in ('| CutMix (MMPretrain) |', '| SMMix branch |',
                 '| SMMix branch, bf16 motivating pass |',
                 'SMMix-branch step', 'with the bf16 motivating pass'):
        assert line in proc.stdout


def test_bad_options_are_named(capsys):
    code, err = refused(TOOL, '--rounds', '0', capsys=capsys)
    assert code == 2 and '--rounds must be >= 1' in err
    code, err = refused(TOOL, '--precision', 'fp16', capsys=capsys)
    assert code == 2 and err.strip() == (
        f"{TOOL}: --precision: choose from fp32, bf16, got 'fp16'")
    code, err = refused(TOOL, '--variants', 'cutmix,smmix,saliencymix',
                        capsys=capsys)
    assert code == 2 and err.strip() == (
        f"{TOOL}: --variants: unknown ['saliencymix']; cutmix and smmix are "
        f"needed; choose from {', '.join(VARIANTS)}")
    code, err = refused(TOOL, '--variants', 'nomix,smmix', capsys=capsys)
    assert code == 2 and 'cutmix and smmix are needed' in err
    code, err = refused(TOOL, '--model', 'vit-base', capsys=capsys)
    assert code == 2 and err.strip() == (
        f"{TOOL}: --model: choose from deit-tiny, swin-tiny, pvt-v2-b2, "
        "got 'vit-base'")
    code, err = refused(TOOL, '--model', 'swin-tiny', '--variants',
                        'cutmix,smmix,transmix', capsys=capsys)
    assert code == 2 and err.strip() == (
        f"{TOOL}: --variants: unknown ['transmix']; cutmix and smmix are "
        f"needed; choose from {', '.join(BASE_VARIANTS)}")
