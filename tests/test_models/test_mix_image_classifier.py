"""Tests of MixImageClassifier: training steps, inference parity, errors."""
import copy

import pytest
import torch
from mmengine.optim import OptimWrapper
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

import mmsmmix  # noqa: F401
from mmsmmix.models.classifiers import MixImageClassifier
from tests.helpers import record_mixes, tiny_vit_cfg

NUM_CLASSES = 10
HEAD = dict(
    type='SMMixClsHead',
    num_classes=NUM_CLASSES,
    in_channels=64,
    loss=dict(type='CrossEntropyLoss', use_soft=True))


def _cfg(augments=dict(type='SMMix', switch_prob=1., seed=0), **kwargs):
    cfg = dict(
        type='MixImageClassifier',
        backbone=tiny_vit_cfg(),
        head=copy.deepcopy(HEAD),
        train_cfg=dict(augments=augments))
    cfg.update(kwargs)
    return cfg


def _data(labels=(1, 4, 8)):
    g = torch.Generator().manual_seed(len(labels))
    return dict(
        inputs=torch.randint(0, 256, (len(labels), 1, 28, 28), generator=g,
                             dtype=torch.uint8),
        data_samples=[DataSample().set_gt_label(k) for k in labels])


def _sgd(model):
    return OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))


def _snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _changed(before, module):
    return {k for k, v in module.state_dict().items()
            if not torch.equal(before[k], v)}


def test_train_step_smmix_odd_batch():
    """SMMix batch of 3: finite cls/fine/con losses; token_head updated."""
    model = MODELS.build(_cfg())
    assert isinstance(model, MixImageClassifier)
    model.train()
    before = _snapshot(model.head.token_head)
    mixes = record_mixes(model.augments[0])
    log_vars = {k: v.detach() for k, v in
                model.train_step(_data(), _sgd(model)).items()}
    for key in ('loss', 'loss_cls', 'loss_fine', 'loss_con'):
        assert torch.isfinite(log_vars[key]), key
    assert float(log_vars['loss_cls']) > 0
    assert float(log_vars['loss_fine']) > 0
    assert float(log_vars['loss_con']) >= 0
    assert float(log_vars['loss']) == pytest.approx(
        float(log_vars['loss_cls']) + float(log_vars['loss_fine']) +
        float(log_vars['loss_con']), rel=1e-5)
    assert _changed(before, model.head.token_head) == {'weight', 'bias'}
    assert model.training and [m.info['branch'] for m in mixes] == ['smmix']


def test_train_step_mixup_only_loss_cls():
    """switch_prob=0 (Mixup): only loss_cls; token_head gets no gradient."""
    model = MODELS.build(
        _cfg(augments=dict(type='SMMix', switch_prob=0., seed=0)))
    model.train()
    before_tok = _snapshot(model.head.token_head)
    before_cls = _snapshot(model.head.layers)
    log_vars = model.train_step(_data(), _sgd(model))
    assert set(log_vars) == {'loss', 'loss_cls'}
    assert torch.isfinite(torch.as_tensor(log_vars['loss_cls']))
    assert not _changed(before_tok, model.head.token_head)
    assert _changed(before_cls, model.head.layers)


def test_gradients_reach_token_head_only_in_smmix_batches():
    """token_head.weight.grad is set after an SMMix loss, None after Mixup."""
    for switch, has_grad in ((1., True), (0., False)):
        model = MODELS.build(
            _cfg(augments=dict(type='SMMix', switch_prob=switch, seed=0)))
        model.train()
        data = model.data_preprocessor(_data(), True)
        losses = model.loss(data['inputs'], data['data_samples'])
        sum(losses.values()).backward()
        grad = model.head.token_head.weight.grad
        assert (grad is not None and grad.abs().sum() > 0) == has_grad
        assert model.head.layers.head.weight.grad.abs().sum() > 0
        # the mixed labels reached the samples as soft (B, K) scores
        scores = torch.stack([s.gt_score for s in data['data_samples']])
        assert scores.shape == (3, NUM_CLASSES)
        assert torch.allclose(scores.sum(1), torch.ones(3))
        assert (scores > 0).all()  # smoothed


def test_predict_and_extract_feat_match_image_classifier():
    """Inference equals mmpretrain's ImageClassifier (ViT with
    out_type='cls_token' + VisionTransformerClsHead) on the same weights;
    extract_feat returns the backbone's raw tokens, CLS first."""
    mix = MODELS.build(_cfg())
    plain = MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=tiny_vit_cfg(out_type='cls_token'),
            head=dict(
                type='VisionTransformerClsHead',
                num_classes=NUM_CLASSES,
                in_channels=64)))
    missing, unexpected = plain.load_state_dict(mix.state_dict(),
                                                strict=False)
    assert not missing
    assert set(unexpected) == {'head.token_head.weight',
                               'head.token_head.bias'}
    mix.eval()
    plain.eval()
    x = torch.randn(2, 1, 28, 28)
    with torch.no_grad():
        feats_mix, feats_plain = mix.extract_feat(x), plain.extract_feat(x)
        raw = mix.backbone(x)
        pred_mix = mix.predict(x)
        pred_plain = plain.predict(x)
        logits_mix = mix(x, mode='tensor')
        logits_plain = plain(x, mode='tensor')
    assert len(feats_mix) == len(feats_plain) == len(raw) == 1
    assert feats_mix[0].shape == (2, 50, 64)
    assert torch.equal(feats_mix[0], raw[0])
    assert torch.equal(feats_mix[0][:, 0], feats_plain[0])
    assert torch.allclose(logits_mix, logits_plain, atol=1e-6)
    for a, b in zip(pred_mix, pred_plain):
        assert torch.allclose(a.pred_score, b.pred_score, atol=1e-6)
        assert torch.equal(a.pred_label, b.pred_label)


def test_model_free_augment_mmpretrain_mixup():
    """mmpretrain's Mixup works inside MixImageClassifier (loss_cls only)."""
    model = MODELS.build(_cfg(augments=dict(type='Mixup', alpha=1.)))
    model.train()
    data = model.data_preprocessor(_data(), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert set(losses) == {'loss_cls'}
    assert torch.isfinite(losses['loss_cls'])
    scores = torch.stack([s.gt_score for s in data['data_samples']])
    assert torch.allclose(scores.sum(1), torch.ones(3))
    # mixed, not one-hot: some row has two non-zero classes
    assert ((scores > 0).sum(1) == 2).any()
    log_vars = model.train_step(_data(), _sgd(model))
    assert set(log_vars) == {'loss', 'loss_cls'}


def test_probs_below_one_leave_batches_unmixed():
    """probs=[0.] never picks the augment: labels stay pure one-hots."""
    model = MODELS.build(
        _cfg(train_cfg=dict(
            augments=dict(type='SMMix', switch_prob=1.), probs=[0.])))
    model.train()
    data = model.data_preprocessor(_data(), True)
    x = data['inputs'].clone()
    losses = model.loss(data['inputs'], data['data_samples'])
    assert set(losses) == {'loss_cls'}
    scores = torch.stack([s.gt_score for s in data['data_samples']])
    expected = torch.zeros(3, NUM_CLASSES)
    expected[[0, 1, 2], [1, 4, 8]] = 1.
    assert torch.equal(scores, expected)
    assert torch.equal(data['inputs'], x)


def test_label_smooth_loss_with_smoothing_augment_raises():
    """LabelSmoothLoss plus SMMix(label_smoothing>0) would smooth twice."""
    head = dict(HEAD, loss=dict(type='LabelSmoothLoss', label_smooth_val=.1))
    with pytest.raises(ValueError, match='label_smoothing'):
        MODELS.build(_cfg(head=head))
    # without augment smoothing it is allowed
    MODELS.build(
        _cfg(head=head, augments=dict(type='SMMix', label_smoothing=0.)))


def test_train_cfg_errors():
    """Unknown train_cfg keys, probs length mismatch, bad probs, and
    data_preprocessor.batch_augments are rejected."""
    with pytest.raises(ValueError, match='mode'):
        MODELS.build(_cfg(train_cfg=dict(augments=[], mode='x')))
    with pytest.raises(ValueError, match='2 entries for 1 augments'):
        MODELS.build(
            _cfg(train_cfg=dict(
                augments=dict(type='SMMix'), probs=[.5, .5])))
    with pytest.raises(ValueError, match='sum to'):
        MODELS.build(
            _cfg(train_cfg=dict(
                augments=[dict(type='SMMix'),
                          dict(type='Mixup', alpha=1.)],
                probs=[.8, .8])))
    with pytest.raises(ValueError, match='batch_augments'):
        MODELS.build(
            _cfg(data_preprocessor=dict(
                batch_augments=dict(augments=dict(type='Mixup', alpha=1.)))))


def test_smmix_with_resnet_raises_at_build():
    """An attention-guided augment needs a ViT backbone: TypeError early."""
    with pytest.raises(TypeError, match='ResNet'):
        MODELS.build(
            dict(
                type='MixImageClassifier',
                backbone=dict(type='ResNet', depth=18, in_channels=1),
                neck=dict(type='GlobalAveragePooling'),
                head=dict(
                    type='LinearClsHead',
                    num_classes=NUM_CLASSES,
                    in_channels=512,
                    loss=dict(type='CrossEntropyLoss', use_soft=True)),
                train_cfg=dict(augments=dict(type='SMMix'))))


def test_smmix_in_plain_image_classifier_is_refused_when_built():
    """In a plain ImageClassifier SMMix would run in the data preprocessor,
    without the model: refused when the model is built, naming the fix."""
    with pytest.raises(TypeError, match=r"SMMix cannot run as a plain batch "
                       r"augment \(built by MMPretrain's data preprocessor "
                       r'.*\): the forward of the model it runs while mixing '
                       r"would be lost. Set model.type='MixImageClassifier'"):
        MODELS.build(
            dict(
                type='ImageClassifier',
                backbone=tiny_vit_cfg(),
                head=copy.deepcopy(HEAD),
                data_preprocessor=dict(num_classes=NUM_CLASSES),
                train_cfg=dict(augments=dict(type='SMMix'))))
