"""``torch.compile`` of the classifier's forwards (``compile=`` in configs).

A compiled SMMix step (clean eval-mode pass with the attention probe, then
the mixed forward) and compiled TransMix/Mixup steps (relabelling forwards
with the probe's hooks, alternating with hook-free Mixup forwards) give the
losses and weights of eager steps from the same weights and draws; the
non-finite guard still skips a NaN step; a backend that fails sends the
model back to eager with a logged warning, and training goes on with the
eager results; ``CompileHook`` replaces mmengine's whole-``train_step``
compile.

The tests compile with ``backend='aot_eager'`` (Dynamo and AOTAutograd
without Inductor's C++ code generation): Inductor compiles the tiny ViT in
tens of seconds on a 2-core CPU, too slow for the suite.
``tools/benchmark/compile_time.py`` measures Inductor.
"""
import copy
import logging

import torch
import torch._dynamo.testing
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.optim import OptimWrapper
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from mmsmmix.engine import CompiledForward, CompileHook
from tests.helpers import tiny_vit_cfg

SMMIX_HEAD = dict(
    type='SMMixClsHead',
    num_classes=10,
    in_channels=64,
    loss=dict(type='CrossEntropyLoss', use_soft=True))
CLS_HEAD = dict(
    type='VisionTransformerClsHead',
    num_classes=10,
    in_channels=64,
    loss=dict(type='CrossEntropyLoss', use_soft=True))
SMMIX = dict(
    backbone=tiny_vit_cfg(),
    head=SMMIX_HEAD,
    train_cfg=dict(augments=dict(type='SMMix', switch_prob=1., seed=0)))
TRANSMIX = dict(
    backbone=tiny_vit_cfg(out_type='cls_token'),
    head=CLS_HEAD,
    train_cfg=dict(
        augments=[
            dict(type='Mixup', alpha=0.8),
            dict(type='TransMix', alpha=1.0, seed=2)
        ],
        probs=[0.5, 0.5]))


def _model(cfg: dict):
    torch.manual_seed(0)  # weights (and the streams with seed=None)
    model = MODELS.build(dict(type='MixImageClassifier', **copy.deepcopy(cfg)))
    model.init_weights()
    return model.train()


def _data(labels=(1, 4, 8, 2)):
    g = torch.Generator().manual_seed(len(labels))
    return dict(
        inputs=torch.randint(0, 256, (len(labels), 1, 28, 28), generator=g,
                             dtype=torch.uint8),
        data_samples=[DataSample().set_gt_label(k) for k in labels])


def _optim(model):
    return OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))


def _picks(model) -> list:
    """Spy on the augment choice: the list receives each step's augment."""
    picks, pick = [], model.switch.pick

    def spy():
        augment = pick()
        picks.append(None if augment is None else augment.name)
        return augment

    model.switch.pick = spy
    return picks


class _Warnings(logging.Handler):

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def _compare_steps(cfg: dict, steps: int):
    """Eager and compiled (aot_eager) models, same weights and seeds: the
    per-step losses and final weights, and the compiled forward."""
    eager, compiled = _model(cfg), _model(cfg)
    counter = torch._dynamo.testing.CompileCounterWithBackend('aot_eager')
    forward = compiled.compile_forwards(dict(backend=counter))
    picks = [_picks(eager), _picks(compiled)]
    optims = [_optim(eager), _optim(compiled)]
    for _ in range(steps):
        log_e = eager.train_step(_data(), optims[0])
        log_c = compiled.train_step(_data(), optims[1])
        assert sorted(log_e) == sorted(log_c)
        for key in log_e:
            assert torch.allclose(log_c[key], log_e[key], atol=1e-5), key
    assert picks[0] == picks[1]
    for (name, p_e), p_c in zip(eager.named_parameters(),
                                compiled.parameters()):
        assert torch.allclose(p_c, p_e, atol=1e-5), name
    assert forward.failure is None and compiled.extract_feat is forward
    return picks[1], counter


def test_compiled_smmix_steps_match_eager():
    """The clean pass (eval mode, no grad, attention capture) and the mixed
    forward are both compiled: two graphs, reused at the second step."""
    picks, counter = _compare_steps(SMMIX, steps=2)
    assert picks == ['SMMix', 'SMMix']
    assert counter.frame_count == 2


def test_compiled_transmix_steps_match_eager():
    """TransMix's relabelling reads the attention of the compiled mixed
    forward (the probe's hooks, replayed from taps), and a hook-free Mixup
    forward in between does not reuse the graph with taps (or the other way
    round): two graphs for four steps."""
    picks, counter = _compare_steps(TRANSMIX, steps=4)
    assert set(picks) == {'Mixup', 'TransMix'}
    assert picks.count('TransMix') >= 2  # a second capture hits the cache
    assert counter.frame_count == 2


def test_compiled_step_keeps_the_nonfinite_guard():
    """A NaN pixel through the compiled forwards: the guard (eager, after
    the forward) skips the step, and the weights stay as they were."""
    cfg = copy.deepcopy(SMMIX)
    cfg['train_cfg']['nonfinite'] = 'skip'
    model = _model(cfg)
    forward = model.compile_forwards(dict(backend='aot_eager'))
    optim = _optim(model)
    model.train_step(_data(), optim)  # compiles
    data = _data()
    data['inputs'] = data['inputs'].float()
    data['inputs'][2, 0, 13, 5] = float('nan')
    before = {k: v.clone() for k, v in model.state_dict().items()}
    log_vars = model.train_step(data, optim)
    assert dict(log_vars) == {'skipped_steps': 1}
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert forward.failure is None


def test_failing_backend_falls_back_to_eager_with_a_warning():
    """A backend that raises: the step is redone eagerly (the eager model's
    losses exactly), a warning names the model, the augment and the error,
    and the model stays eager (one warning for several steps)."""

    def exploding_backend(graph_module, example_inputs):
        raise RuntimeError('backend exploded on purpose')

    eager, model = _model(SMMIX), _model(SMMIX)
    forward = model.compile_forwards(dict(backend=exploding_backend))
    logger = MMLogger.get_current_instance()
    handler = _Warnings()
    logger.addHandler(handler)
    try:
        optims = [_optim(eager), _optim(model)]
        for _ in range(2):
            log_e = eager.train_step(_data(), optims[0])
            log_c = model.train_step(_data(), optims[1])
            for key in log_e:
                assert torch.equal(log_c[key], log_e[key]), key
    finally:
        logger.removeHandler(handler)
    (message, ) = [m for m in handler.messages if 'torch.compile' in m]
    assert 'MixImageClassifier.extract_feat failed in a SMMix step' in message
    assert 'eval mode, no grad, forward hooks on backbone' in message
    assert 'backend exploded on purpose' in message
    assert 'Falling back to eager' in message
    assert isinstance(forward.failure, Exception)
    assert forward.compiled is None and 'eager' in repr(forward)


def test_compile_hook_replaces_whole_train_step_compile():
    """mmengine's ``compile=`` compiles ``train_step``; the hook undoes that
    and compiles ``extract_feat`` with the same options. No compile runs
    here (nothing is called)."""
    model = _model(SMMIX)
    options = dict(backend='aot_eager')
    model.train_step = torch.compile(model.train_step, **options)  # mmengine
    runner = type('Runner', (), {})()
    runner.cfg = Config(dict(compile=options))
    runner.model = model
    runner.logger = MMLogger.get_current_instance()
    CompileHook().before_train(runner)
    assert 'train_step' not in vars(model)
    assert isinstance(model.extract_feat, CompiledForward)
    assert model.extract_feat.compile_cfg == options
    CompileHook().before_train(runner)  # again: unchanged
    assert model.extract_feat.compile_cfg == options

    plain = _model(SMMIX)
    runner.model, runner.cfg = plain, Config(dict())
    CompileHook().before_train(runner)  # no `compile`: nothing
    assert 'extract_feat' not in vars(plain)
