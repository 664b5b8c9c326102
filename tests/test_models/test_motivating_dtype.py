"""SMMix's ``motivating_dtype``: the clean pass runs under autocast of the
chosen dtype (seen by the layers inside it), the recorded attention and the
patch scores stay float32, and the default is the official float32 pass,
outside any autocast, identical to an explicit ``'float32'``."""
import pytest
import torch
from mmpretrain.registry import MODELS

import mmsmmix  # noqa: F401
from mmsmmix.models.augments import SMMix
from tests.helpers import tiny_vit_cfg

LABELS = torch.tensor([0, 3, 7, 9])


def _model(**smmix):
    torch.manual_seed(0)
    return MODELS.build(
        dict(
            type='MixImageClassifier',
            backbone=tiny_vit_cfg(),
            head=dict(
                type='SMMixClsHead',
                num_classes=10,
                in_channels=64,
                loss=dict(type='CrossEntropyLoss', use_soft=True)),
            train_cfg=dict(augments=dict(
                type='SMMix', switch_prob=1.0, seed=1, **smmix))))


def _mix_watching(model, x):
    """One SMMix call; the dtypes the last block's qkv projection produced
    during it, and the recorded attention."""
    seen, records = [], []
    qkv = model.backbone.layers[-1].attn.qkv
    handle = qkv.register_forward_hook(
        lambda module, args, out: seen.append(out.dtype))
    clean_forward = model.mix_context.clean_forward

    def spy(*args, **kwargs):
        logits, record = clean_forward(*args, **kwargs)
        records.append(record)
        return logits, record

    model.mix_context.clean_forward = spy
    try:
        result = model.augments[0].mix(x, torch.eye(10)[LABELS],
                                       model.mix_context)
    finally:
        handle.remove()
        del model.mix_context.clean_forward
    return result, seen, records[0]


def test_bfloat16_pass_runs_under_autocast_with_float32_scores():
    model = _model(motivating_dtype='bfloat16')
    x = torch.randn(4, 1, 28, 28)
    result, seen, record = _mix_watching(model, x)
    # the model's own qkv, then the probe's recomputation: both in bf16
    assert seen == [torch.bfloat16, torch.bfloat16]
    assert record.attn.dtype == torch.float32
    assert torch.allclose(record.attn.sum(-1), torch.ones(()), atol=1e-5)
    mix_info = result.head_kwargs['mix_info']
    assert mix_info['clean_logits'].dtype == torch.float32
    assert result.inputs.dtype == x.dtype == torch.float32
    assert model.training  # the eval switch was undone


def test_default_is_the_float32_pass_even_inside_autocast():
    x = torch.randn(4, 1, 28, 28)
    default, explicit = _model(), _model(motivating_dtype='float32')
    with torch.autocast('cpu', dtype=torch.bfloat16):  # as under AMP
        result, seen, record = _mix_watching(default, x)
    assert seen == [torch.float32, torch.float32]
    again, _, record32 = _mix_watching(explicit, x)
    assert torch.equal(record.attn, record32.attn)
    assert torch.equal(result.inputs, again.inputs)
    assert torch.equal(result.targets, again.targets)


def test_bfloat16_scores_are_close_to_float32():
    """Same weights and images: the bf16 attention differs from the
    float32 one only by bf16 rounding (about 3 significant digits)."""
    x = torch.randn(8, 1, 28, 28)
    _, _, low = _mix_watching(_model(motivating_dtype='bfloat16'), x)
    _, _, full = _mix_watching(_model(), x)
    assert not torch.equal(low.attn, full.attn)
    assert torch.allclose(low.attn, full.attn, atol=2e-2)


def test_unknown_dtype_is_refused():
    with pytest.raises(ValueError, match=r"SMMix motivating_dtype must be "
                       r"one of \['bfloat16', 'float16', 'float32', "
                       r"'auto'\], got 'half'"):
        SMMix(motivating_dtype='half')


def test_window_agreement_on_real_batches(fmnist_root):
    """The benchmark's agreement: a float32 'low-precision' pass agrees on
    every window; bfloat16 on the images, per region side of SMMix's
    range (1..5 on the 7x7 grid)."""
    from mmengine.config import Config

    from mmsmmix.benchmarks.comparison import load_suite
    from mmsmmix.benchmarks.motivating_pass import window_agreement
    cfg = Config.fromfile(load_suite('fashion_mnist').methods['smmix'].config)
    cfg.model.backbone.patch_size = 4
    same = window_agreement(cfg, None, torch.float32, images=48,
                            batch_size=32)
    assert same['agreement'] == 1.0 and same['images'] == 48
    assert same['sides'] == [1, 2, 3, 4, 5]
    assert same['score_max_abs_diff'] == 0
    low = window_agreement(cfg, None, torch.bfloat16, images=48,
                           batch_size=32)
    assert 0 < low['score_max_abs_diff'] < 1e-2
    assert 0.5 < low['agreement'] <= 1.0
    assert set(low['per_side']) == {1, 2, 3, 4, 5}
    with pytest.raises(ValueError, match='the training set has 60000'):
        window_agreement(cfg, None, torch.bfloat16, images=10**6)
