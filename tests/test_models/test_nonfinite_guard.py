"""The non-finite guard of MixImageClassifier: nothing non-finite reaches
the optimizer; the default raises naming the term, skip mode skips."""
import copy

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import mmsmmix  # noqa: F401
from tests.helpers import tiny_vit_cfg

HEAD = dict(
    type='SMMixClsHead',
    num_classes=10,
    in_channels=64,
    loss=dict(type='CrossEntropyLoss', use_soft=True))


def _model(switch_prob=1., **train_cfg):
    model = MODELS.build(
        dict(
            type='MixImageClassifier',
            backbone=tiny_vit_cfg(),
            head=copy.deepcopy(HEAD),
            data_preprocessor=dict(num_classes=10, mean=[72.9], std=[90.]),
            train_cfg=dict(
                augments=dict(type='SMMix', switch_prob=switch_prob, seed=0),
                **train_cfg)))
    model.init_weights()
    with torch.no_grad():  # heads start at zero; give them a real value
        model.head.layers.head.weight.normal_(std=0.02)
    return model.train()


def _data(nan_pixel=False, labels=(1, 4, 8, 2)):
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (len(labels), 1, 28, 28), generator=g)
    images = images.float()
    if nan_pixel:
        images[2, 0, 13, 5] = float('nan')
    return dict(
        inputs=images,
        data_samples=[DataSample().set_gt_label(k) for k in labels])


def _adamw(model):
    return OptimWrapper(
        torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.05))


def _state(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _assert_unchanged(before, model):
    changed = [k for k, v in model.state_dict().items()
               if not torch.equal(before[k], v)]
    assert changed == []


@pytest.mark.parametrize('switch_prob', [1., 0.])  # SMMix and Mixup steps
def test_nan_pixel_raises_and_leaves_weights(switch_prob):
    model = _model(switch_prob)
    optim = _adamw(model)
    before = _state(model)
    MessageHub.get_current_instance().update_info('iter', 41)
    with pytest.raises(FloatingPointError) as err:
        model.train_step(_data(nan_pixel=True), optim)
    msg = str(err.value)
    assert 'non-finite inputs' in msg and 'loss_cls' in msg
    assert 'iteration 41' in msg and "nonfinite='skip'" in msg
    _assert_unchanged(before, model)
    assert optim.optimizer.state == {}
    assert all(p.grad is None for p in model.parameters())
    # The same model then trains normally on clean data.
    log_vars = model.train_step(_data(), optim)
    assert torch.isfinite(log_vars['loss'])
    assert any(not torch.equal(before[k], v)
               for k, v in model.state_dict().items())


def test_inf_head_names_the_loss_term():
    """A head whose logits hold +inf: loss_cls is NaN; inputs are fine."""
    model = _model(switch_prob=0.)
    with torch.no_grad():
        model.head.layers.head.bias[3] = float('inf')
    before = _state(model)
    with pytest.raises(FloatingPointError) as err:
        model.train_step(_data(), _adamw(model))
    msg = str(err.value)
    assert 'non-finite loss_cls at' in msg and 'inputs' not in msg
    assert 'loss_cls=nan' in msg
    _assert_unchanged(before, model)


def test_skip_mode_skips_and_counts():
    model = _model(switch_prob=1., nonfinite='skip')
    optim = _adamw(model)
    before = _state(model)
    log_vars = model.train_step(_data(nan_pixel=True), optim)
    assert dict(log_vars) == {'skipped_steps': 1}
    _assert_unchanged(before, model)
    assert optim.optimizer.state == {}  # AdamW never stepped
    log_vars = model.train_step(_data(nan_pixel=True), optim)
    assert int(log_vars['skipped_steps']) == 2
    _assert_unchanged(before, model)
    # A finite step updates every trained parameter and reports the count.
    log_vars = model.train_step(_data(), optim)
    assert int(log_vars['skipped_steps']) == 2
    assert torch.isfinite(log_vars['loss_con'])
    steps = {int(s['step']) for s in optim.optimizer.state.values()}
    assert steps == {1}


def test_skip_mode_under_autocast_makes_gradscaler_skip():
    """Under autocast, the skip loss poisons every gradient so that the
    GradScaler of AmpOptimWrapper (which refuses CPU) skips the step: here
    torch's GradScaler on CPU does backward/step/update as that wrapper
    does."""
    model = _model(switch_prob=1., nonfinite='skip')
    optim = torch.optim.AdamW(model.parameters(), lr=1e-2)
    scaler = torch.amp.GradScaler('cpu', init_scale=2.**8)
    before = _state(model)
    data = model.data_preprocessor(_data(nan_pixel=True), training=True)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses = model(**data, mode='loss')
    loss, log_vars = model.parse_losses(losses)
    assert int(log_vars['skipped_steps']) == 1
    scaler.scale(loss).backward()
    scaler.step(optim)
    scaler.update()
    _assert_unchanged(before, model)
    assert optim.state == {}
    assert scaler.get_scale() == 2.**7


def test_bad_mode_is_rejected():
    with pytest.raises(ValueError, match="nonfinite must be one of"):
        _model(nonfinite='ignore')


@pytest.mark.parametrize('values,expected', [
    ([1., -2., 3e38, -3e38, 3e38], True),  # finite, a float32 sum overflows
    ([1., float('nan'), 2.], False),
    ([1., float('inf'), 2.], False),
    ([1., float('-inf'), 2.], False),
    ([float('inf'), float('-inf')], False),
])
def test_all_finite(values, expected):
    from mmsmmix.models.classifiers.nonfinite_guard import all_finite
    tensor = torch.zeros(4, 7)
    tensor.view(-1)[5:5 + len(values)] = torch.tensor(values)
    assert bool(all_finite(tensor)) is expected
    assert bool(all_finite(torch.tensor(values[1]))) is \
        bool(torch.isfinite(torch.tensor(values[1])))
