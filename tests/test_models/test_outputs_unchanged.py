"""Refactoring guard: every method of ours gives, on fixed inputs and seeds,
bit for bit the mixed batches, targets and losses it gave when
``tests/data/mix_outputs.json`` was written, and resumes from random states
saved then.

The file holds SHA-256 digests of outputs (and the random states), not
expectations worked out by hand: the methods'
maths is checked against hand computations elsewhere
(``test_smmix_augment.py``, ``test_mixpro.py``, ...). This test only says
that a change of structure left the numbers alone. It was written by the
code of commit 23cf60d (``python -m tests.test_models.test_outputs_unchanged
--write``) before the augment protocol was redesigned; rewrite it only for a
change that is meant to change numbers, and say so in the commit.

MMPretrain's Mixup, CutMix and ResizeMix are not here: they draw from the
process's global generators, which the redesign replaced by synced streams
(their maths is checked in ``test_mmpretrain_adapter.py``).
"""
import hashlib
import json
import os.path as osp
import sys
from typing import Dict

import pytest
import torch
from mmengine.config import Config
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import mmsmmix  # noqa: F401
from tests.conftest import FMNIST_CONFIGS, REPO_ROOT

GOLDEN = osp.join(REPO_ROOT, 'tests', 'data', 'mix_outputs.json')
METHODS = ('smmix', 'smmix-dm', 'fmix', 'transmix', 'mixpro', 'rankmixup')
STEPS = 8
RESUME_AT = 4  # random states saved before this step
MMPRETRAIN_AUGMENTS = ('Mixup', 'CutMix', 'ResizeMix')
LABELS = (3, 1, 4, 1)


def _model(method: str):
    cfg = Config.fromfile(
        osp.join(FMNIST_CONFIGS, f'vit-mini-p7_{method}_1xb64_fmnist.py'))
    augments = cfg.model.train_cfg.augments
    if isinstance(augments, list):  # TransMix's recipe: ours only
        cfg.model.train_cfg = dict(augments=[
            a for a in augments if a['type'] not in MMPRETRAIN_AUGMENTS
        ])
    torch.manual_seed(0)  # weights and the streams' seed
    model = MODELS.build(cfg.model)
    model.init_weights()
    # Away from the initial state (where every logit is near 0 and every
    # cross-entropy near log K), so that the losses tell methods apart.
    generator = torch.Generator().manual_seed(2)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(torch.randn(param.shape, generator=generator) * 0.2)
    return model.train()


def _inputs() -> torch.Tensor:
    generator = torch.Generator().manual_seed(1)
    return torch.randn(len(LABELS), 1, 28, 28, generator=generator)


def digest(tensor: torch.Tensor) -> str:
    """Dtype, shape and SHA-256 of the bytes: equal iff bit-identical."""
    tensor = tensor.detach().cpu().contiguous()
    data = hashlib.sha256(tensor.numpy().tobytes()).hexdigest()
    return f'{tensor.dtype} {tuple(tensor.shape)} {data}'


def _step(model, inputs: torch.Tensor) -> Dict[str, str]:
    """One ``loss()``: every backbone input (clean and mixed forwards), the
    targets it set and the losses, as digests."""
    seen = []
    handle = model.backbone.register_forward_pre_hook(
        lambda module, args: seen.append(args[0].detach().clone()))
    samples = [DataSample().set_gt_label(k) for k in LABELS]
    try:
        losses = model.loss(inputs.clone(), samples)
    finally:
        handle.remove()
    out = {f'backbone_input.{i}': x for i, x in enumerate(seen)}
    out['targets'] = torch.stack([s.gt_score for s in samples])
    out.update(losses)
    return {key: digest(value) for key, value in out.items()}


def _stream_states(model) -> dict:
    return {
        name: stream.state_dict()
        for name, stream in model.random_streams().items()
    }


def record(method: str) -> dict:
    """The outputs of ``STEPS`` steps and the random states before step
    ``RESUME_AT``."""
    model = _model(method)
    inputs = _inputs()
    steps, states = [], None
    for step in range(STEPS):
        if step == RESUME_AT:
            states = _stream_states(model)
        steps.append(_step(model, inputs))
    return dict(steps=steps, states=states)


@pytest.fixture(scope='module')
def golden():
    with open(GOLDEN) as f:
        return json.load(f)


def _assert_equal(got: dict, expected: dict, where: str) -> None:
    assert sorted(got) == sorted(expected), where
    for key, value in expected.items():
        assert got[key] == value, f'{where}: {key} changed'


@pytest.mark.parametrize('method', METHODS)
def test_outputs_bit_identical(golden, method):
    got = record(method)
    for step, (new, old) in enumerate(zip(got['steps'],
                                          golden[method]['steps'])):
        _assert_equal(new, old, f'{method} step {step}')


@pytest.mark.parametrize('method', METHODS)
def test_resumes_from_states_saved_before(golden, method):
    """Random states in the old checkpoint format load by the old names,
    and the next steps equal the uninterrupted run's."""
    model = _model(method)
    streams = model.random_streams()
    saved = golden[method]['states']
    assert sorted(streams) == sorted(saved)
    for name, state in saved.items():
        streams[name].load_state_dict(state)
    inputs = _inputs()
    for step in range(RESUME_AT, STEPS):
        _assert_equal(_step(model, inputs), golden[method]['steps'][step],
                      f'{method} resumed step {step}')


if __name__ == '__main__' and sys.argv[1:] == ['--write']:
    with open(GOLDEN, 'w') as f:
        json.dump({m: record(m) for m in METHODS}, f, indent=1)
    print(f'wrote {GOLDEN}')
