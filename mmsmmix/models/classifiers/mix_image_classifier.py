"""An ImageClassifier whose batch augments may use the model itself."""
import copy
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmpretrain.models import ImageClassifier
from mmpretrain.models.losses import LabelSmoothLoss
from mmpretrain.registry import BATCH_AUGMENTS, MODELS
from mmpretrain.structures import DataSample

from mmsmmix.models.probes import AttentionRecord, build_attention_probe
from mmsmmix.utils import SyncedRandom


@MODELS.register_module()
class MixImageClassifier(ImageClassifier):
    """Image classifier that mixes batches inside ``loss()``.

    MMPretrain applies ``train_cfg.augments`` in the data preprocessor,
    outside the model, so an augment there can neither run the model (SMMix's
    self-motivated forward) nor hand masks to the head. Here the augments run
    in ``loss()``, i.e. inside the DDP- and AMP-wrapped forward:

    - a model-free augment (MMPretrain ``Mixup``, ``CutMix``, ...) is called
      as ``aug(inputs, score) -> (inputs, score)``;
    - an augment with ``requires_model = True`` (``SMMix``) is called as
      ``aug(inputs, score, model=self) -> (inputs, score, mix_info)`` and
      ``mix_info`` is passed on to ``head.loss``; one with
      ``requires_attention = True`` gets an attention probe on the backbone,
      checked when the model is built.

    Labels reach the head as (B, K) ``gt_score`` in every batch.

    ``predict`` and ``extract_feat`` are those of ``ImageClassifier``.

    Args:
        train_cfg (dict, optional): ``augments`` (a config or a list of
            them) and ``probs`` (their probabilities; a sum below 1 leaves
            the rest of the batches unmixed), drawn identically on all ranks.
        Other args: as ``ImageClassifier``.
    """

    def __init__(self,
                 backbone: dict,
                 neck: Optional[dict] = None,
                 head: Optional[dict] = None,
                 pretrained: Optional[str] = None,
                 train_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        train_cfg = copy.deepcopy(dict(train_cfg or {}))
        augments = train_cfg.pop('augments', [])
        probs = train_cfg.pop('probs', None)
        if train_cfg:
            raise ValueError('MixImageClassifier train_cfg accepts only '
                             f"'augments' and 'probs', got {list(train_cfg)}")
        data_preprocessor = dict(data_preprocessor or {})
        data_preprocessor.setdefault('type', 'ClsDataPreprocessor')
        if data_preprocessor.get('batch_augments'):
            raise ValueError(
                'MixImageClassifier mixes in loss(): put the augments in '
                'model.train_cfg.augments, not in '
                'data_preprocessor.batch_augments')
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            pretrained=pretrained,
            train_cfg=None,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)

        if isinstance(augments, dict):
            augments = [augments]
        self.augments = [
            BATCH_AUGMENTS.build(a) if isinstance(a, dict) else a
            for a in augments
        ]
        self.augment_probs = self._check_probs(probs, len(self.augments))
        self.random = SyncedRandom(stream='MixImageClassifier')
        self._probe = None
        for aug in self.augments:
            if getattr(aug, 'label_smoothing', 0) and isinstance(
                    getattr(self.head, 'loss_module', None), LabelSmoothLoss):
                raise ValueError(
                    f'{type(aug).__name__} already smooths labels '
                    f'(label_smoothing={aug.label_smoothing}); use '
                    "model.head.loss=dict(type='CrossEntropyLoss', "
                    'use_soft=True) or set label_smoothing=0 in the augment')
            if getattr(aug, 'requires_attention', False):
                self._probe = build_attention_probe(self.backbone)

    @staticmethod
    def _check_probs(probs, num_augments: int) -> Optional[List[float]]:
        if probs is None:
            return None
        probs = [float(p) for p in (
            probs if isinstance(probs, (list, tuple)) else [probs])]
        if len(probs) != num_augments:
            raise ValueError(
                f'model.train_cfg.probs has {len(probs)} entries for '
                f'{num_augments} augments')
        if any(p < 0 for p in probs) or sum(probs) > 1 + 1e-6:
            raise ValueError('model.train_cfg.probs must be >= 0 and sum to '
                             f'at most 1, got {probs}')
        return probs

    def _pick_augment(self):
        """One augment (or None: no mixing) for this batch."""
        if not self.augments:
            return None
        if self.augment_probs is None:
            return self.random.choice(self.augments)
        rest = max(1 - sum(self.augment_probs), 0.)
        options = self.augments + [None]
        probs = torch.tensor(self.augment_probs + [rest], dtype=torch.float64)
        return self.random.choice(options, p=(probs / probs.sum()).numpy())

    def _batch_score(self, inputs: torch.Tensor,
                     data_samples: List[DataSample]) -> torch.Tensor:
        """(B, K) float scores: ``gt_score`` if present, else one-hot."""
        if 'gt_score' in data_samples[0]:
            return torch.stack([s.gt_score for s in data_samples]).float()
        labels = torch.cat([s.gt_label for s in data_samples])
        return F.one_hot(labels.to(inputs.device),
                         self.head.num_classes).float()

    def clean_forward(
            self,
            inputs: torch.Tensor) -> Tuple[torch.Tensor, AttentionRecord]:
        """Eval-mode, no-grad, float32 forward of an unmixed batch.

        Dropout and stochastic depth are off, as in the official SMMix
        motivating pass, and the train/eval mode is restored afterwards.

        Args:
            inputs (Tensor): (B, C, H, W) images.

        Returns:
            tuple: Class logits (B, K) and the last block's attention.
        """
        if self._probe is None:
            self._probe = build_attention_probe(self.backbone)
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad(), torch.autocast(
                    inputs.device.type, enabled=False), \
                    self._probe.capture() as record:
                logits = self.head(self.extract_feat(inputs.float()))
        finally:
            self.train(was_training)
        return logits.float(), record

    def loss(self, inputs: torch.Tensor,
             data_samples: List[DataSample]) -> dict:
        """Mix the batch, then compute the head's losses on it.

        Args:
            inputs (Tensor): (B, C, H, W) normalised images.
            data_samples (list[DataSample]): Their annotations.

        Returns:
            dict[str, Tensor]: The head's losses.
        """
        aug = self._pick_augment()
        score = self._batch_score(inputs, data_samples)
        mix_info = None
        if getattr(aug, 'requires_model', False):
            inputs, score, mix_info = aug(inputs, score, model=self)
        elif aug is not None:
            inputs, score = aug(inputs, score)
        for sample, sample_score in zip(data_samples, score):
            sample.set_gt_score(sample_score)
        feats = self.extract_feat(inputs)
        if mix_info is None:
            return self.head.loss(feats, data_samples)
        return self.head.loss(feats, data_samples, mix_info=mix_info)
