"""The protocol from the outside: the example method of
docs/advanced_guides/protocol.md, written only against
``augments/base.py``, trains through an unmodified MixImageClassifier;
the classifier dispatches on the result alone."""
import pytest
import torch
from mmpretrain.registry import BATCH_AUGMENTS, MODELS
from mmpretrain.structures import DataSample

from mmsmmix.models.augments import MixAugment, MixResult, Relabel
from mmsmmix.ops import mix_targets, partner_index
from tests.helpers import record_mixes, tiny_vit_cfg


@BATCH_AUGMENTS.register_module(force=True)
class HalfSwap(MixAugment):
    """Swap the left halves of each image and its partner."""

    def __init__(self, seed=None):
        super().__init__(seed)  # self.random: a stream named 'HalfSwap'

    def mix(self, inputs, targets, context=None):
        index = partner_index(len(inputs), 'randperm', self.random.rng)
        mixed = inputs.clone()
        half = inputs.shape[-1] // 2
        mixed[..., :half] = inputs[index][..., :half]
        lam = 1 - half / inputs.shape[-1]  # the image's own share
        return MixResult(mixed, mix_targets(targets, lam, targets[index]),
                         info=dict(index=index))


def _model(augment):
    return MODELS.build(
        dict(type='MixImageClassifier',
             backbone=tiny_vit_cfg(out_type='cls_token'),
             head=dict(type='VisionTransformerClsHead', num_classes=10,
                       in_channels=64,
                       loss=dict(type='CrossEntropyLoss', use_soft=True)),
             train_cfg=dict(augments=augment)))


def _samples(labels=(1, 4, 8, 2)):
    return [DataSample().set_gt_label(k) for k in labels]


def test_readme_example_trains():
    model = _model(dict(type='HalfSwap', seed=0))
    assert list(model.random_streams()) == ['classifier', 'augments.0.random']
    assert model.random_streams()['augments.0.random'].stream == 'HalfSwap'
    mixes = record_mixes(model.augments[0])
    images = torch.randn(4, 1, 28, 28)
    samples = _samples()
    model.loss(images, samples)
    (result, ) = mixes
    index = result.info['index']
    assert torch.equal(result.inputs[..., :14], images[index][..., :14])
    assert torch.equal(result.inputs[..., 14:], images[..., 14:])
    targets = torch.stack([s.gt_score for s in samples])
    own = torch.eye(10)[[1, 4, 8, 2]]
    assert torch.allclose(targets, 0.5 * own + 0.5 * own[index])


class _Recorder(MixAugment):
    """Returns a result with every optional part, to see the classifier use
    each one."""
    attn_stat = 'cls'

    def __init__(self):
        super().__init__(seed=0)
        self.calls = []

    def mix(self, inputs, targets, context=None):

        def relabel(record, logits):
            self.calls.append(('relabel', record.attn.shape,
                               logits.requires_grad))
            return targets.flip(0)

        def loss_terms(logits):
            self.calls.append(('loss_terms', logits.requires_grad))
            return dict(loss_extra=logits.sum() * 0 + 1.5)

        return MixResult(inputs + 1, targets, relabel=Relabel('cls', relabel),
                         loss_terms=loss_terms)


def test_classifier_uses_every_part_of_the_result():
    model = _model([_Recorder()])
    recorder = model.augments[0]  # (the config is deep-copied)
    model.train()
    seen = []
    model.backbone.register_forward_pre_hook(
        lambda module, args: seen.append(args[0]))
    images = torch.randn(4, 1, 28, 28)
    samples = _samples()
    losses = model.loss(images, samples)
    assert torch.equal(seen[0], images + 1)  # the result's inputs trained
    assert recorder.calls == [('relabel', (4, 4, 50, 50), True),
                              ('loss_terms', True)]
    targets = torch.stack([s.gt_score for s in samples])
    assert torch.equal(targets, torch.eye(10)[[2, 8, 4, 1]])  # relabelled
    assert losses['loss_extra'].item() == pytest.approx(1.5)
