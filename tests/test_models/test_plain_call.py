"""No silent drop: every augment of ours either runs whole through
MMPretrain's plain batch-augment call (``aug(inputs, scores)``, as
``data_preprocessor.batch_augments`` makes it) or is refused there with one
error naming the method, what would be lost and the fix; built by MMPretrain's
data preprocessor, it is refused when the model is built."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper
from mmpretrain.registry import BATCH_AUGMENTS, MODELS
from mmpretrain.structures import DataSample

import mmsmmix  # noqa: F401
from mmsmmix.models.augments import MixAugment
from tests.helpers import tiny_vit_cfg

HEAD = dict(type='VisionTransformerClsHead', num_classes=10, in_channels=64,
            loss=dict(type='CrossEntropyLoss', use_soft=True))
#: Heads for the augments that need one of their own.
HEADS = dict(SMMix=dict(HEAD, type='SMMixClsHead'))
OURS = sorted(name for name, cls in BATCH_AUGMENTS.module_dict.items()
              if issubclass(cls, MixAugment))
MESSAGE = (r"{} cannot run as a plain batch augment \({}\): .+ would be "
           r"lost. Set model.type='MixImageClassifier' and put it in "
           r'model.train_cfg.augments')


def _classifier(name):
    torch.manual_seed(0)
    tokens = 'raw' if name in HEADS else 'cls_token'
    return MODELS.build(dict(
        type='MixImageClassifier', backbone=tiny_vit_cfg(out_type=tokens),
        head=copy.deepcopy(HEADS.get(name, HEAD)),
        train_cfg=dict(augments=dict(type=name, seed=0))))


def _batch():
    torch.manual_seed(1)
    return torch.randn(4, 1, 28, 28), F.one_hot(torch.tensor([0, 3, 7, 9]),
                                                10).float()


def test_every_registered_augment_is_checked():
    assert {'FMix', 'MixPro', 'RankMixup', 'SMMix', 'TransMix'} <= set(OURS)


@pytest.mark.parametrize('name', OURS)
def test_plain_call_runs_whole_or_refuses(name):
    """What the classifier's own path gives decides: an augment that runs
    the model or returns a relabelling, head inputs or loss terms there is
    refused on the plain path; the others give the same batch on both."""
    model = _classifier(name)
    augment = model.augments[0]
    inputs, targets = _batch()
    result = model.mix(augment, inputs.clone(), targets.clone())
    loses = augment.uses_model or bool(
        result.relabel or result.head_kwargs or result.loss_terms)
    plain = BATCH_AUGMENTS.build(dict(type=name, seed=0))
    if loses:
        with pytest.raises(TypeError, match=MESSAGE.format(
                name, r'aug\(inputs, scores\)')):
            plain(inputs.clone(), targets.clone())
    else:
        mixed, mixed_targets = plain(inputs.clone(), targets.clone())
        assert torch.equal(mixed, result.inputs)
        assert torch.equal(mixed_targets, result.targets)


def test_transmix_in_the_data_preprocessor_is_refused_when_built():
    """TransMix there would train CutMix's area labels under its name."""
    with pytest.raises(TypeError, match=MESSAGE.format(
            'TransMix', r"built by MMPretrain's data preprocessor .*") +
                       '$') as refused:
        MODELS.build(dict(
            type='ImageClassifier', backbone=tiny_vit_cfg(),
            head=copy.deepcopy(HEAD),
            data_preprocessor=dict(
                num_classes=10,
                batch_augments=dict(augments=[dict(type='TransMix')]))))
    assert 'relabelling from the attention' in str(refused.value)
    assert '\n' not in str(refused.value)


def test_a_model_free_augment_trains_in_the_data_preprocessor():
    """FMix loses nothing there: it builds and a training step runs."""
    model = MODELS.build(dict(
        type='ImageClassifier', backbone=tiny_vit_cfg(out_type='cls_token'),
        head=copy.deepcopy(HEAD),
        data_preprocessor=dict(
            num_classes=10,
            batch_augments=dict(augments=[dict(type='FMix', seed=0)]))))
    data = dict(inputs=[torch.randint(0, 255, (1, 28, 28), dtype=torch.uint8)
                        for _ in range(4)],
                data_samples=[DataSample().set_gt_label(k)
                              for k in (0, 3, 7, 9)])
    optim = torch.optim.SGD(model.parameters(), lr=0.1)
    log_vars = model.train_step(data, OptimWrapper(optim))
    assert torch.isfinite(log_vars['loss'])


def test_mix_without_the_model_names_the_fix():
    inputs, targets = _batch()
    augment = BATCH_AUGMENTS.build(dict(type='SMMix', seed=0))
    with pytest.raises(TypeError, match=MESSAGE.format(
            'SMMix', r'mix\(\) without the model')):
        augment.mix(inputs, targets)
