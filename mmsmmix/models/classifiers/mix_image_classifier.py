"""An ImageClassifier whose batch augments may use the model itself."""
import copy
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.dist import all_reduce
from mmengine.logging import MessageHub, MMLogger
from mmpretrain.models import ImageClassifier
from mmpretrain.models.losses import LabelSmoothLoss
from mmpretrain.registry import BATCH_AUGMENTS, MODELS
from mmpretrain.structures import DataSample

from mmsmmix.models.probes import AttentionRecord, build_attention_probe
from mmsmmix.utils import SyncedRandom


NONFINITE_MODES = ('raise', 'skip')


def all_finite(tensor: torch.Tensor) -> torch.Tensor:
    """0-dim bool tensor: is every element of ``tensor`` finite?

    NaN propagates to both the minimum and the maximum, and an infinity
    becomes one of them: a single ``aminmax`` pass, about 10x cheaper than
    ``isfinite(tensor).all()`` on a CPU batch, and exact (no sum to
    overflow).
    """
    low, high = torch.aminmax(tensor.detach())
    return torch.isfinite(low) & torch.isfinite(high)


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
      ``mix_info`` is passed on to ``head.loss``, or, if the augment has
      a ``loss_terms(logits, mix_info)`` method (RankMixup), to that method
      with the class logits of the batch (with gradient), whose named terms
      join the head's losses; one with
      ``requires_attention = True`` gets an attention probe on the backbone,
      checked when the model is built, and its ``check_layout(record,
      image_hw)`` (if any) is called then with the backbone's configured
      token layout;
    - one with ``requires_mixed_attention = True`` (TransMix, MixPro's PAL)
      has the forward of the *mixed* batch run inside the probe (statistic
      ``aug.score``) and relabels the batch from it and that forward's class
      logits: ``aug.relabel(score, record, logits)``, with no
      extra backbone forward. The logits carry gradient: ``relabel``
      detaches them unless its label is meant to move with the prediction
      (MixPro's official ``sim``).
    - a head loss with ``requires_own_label = True`` (Decoupled Mixup's
      reference pairing) gets ``own_label`` (B,), each image's class before
      mixing, through ``head.loss``.

    Labels reach the head as (B, K) ``gt_score`` in every batch.

    Non-finite guard: a training step whose inputs or loss terms are not
    all finite never reaches the optimizer. The check runs after the forward
    and before the backward (``parse_losses``), agrees across ranks, and by
    default raises ``FloatingPointError`` naming the terms and the
    iteration; with ``nonfinite='skip'`` the step is skipped instead (no
    gradient, so neither the weights nor the optimizer state move; under
    AMP the GradScaler sees non-finite gradients and skips it) and the
    ``skipped_steps`` count is logged.

    ``predict`` and ``extract_feat`` are those of ``ImageClassifier``.

    Args:
        train_cfg (dict, optional): ``augments`` (a config or a list of
            them), ``probs`` (their probabilities; a sum below 1 leaves
            the rest of the batches unmixed), drawn identically on all ranks,
            and ``nonfinite`` (``'raise'``, the default, or ``'skip'``).
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
        nonfinite = train_cfg.pop('nonfinite', 'raise')
        if train_cfg:
            raise ValueError('MixImageClassifier train_cfg accepts only '
                             "'augments', 'probs' and 'nonfinite', got "
                             f'{list(train_cfg)}')
        if nonfinite not in NONFINITE_MODES:
            raise ValueError('model.train_cfg.nonfinite must be one of '
                             f'{NONFINITE_MODES}, got {nonfinite!r}')
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
        self.nonfinite = nonfinite
        self.skipped_steps = 0
        self._step_inputs = None  # (finite flag, under autocast) of loss()
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
                self._check_layout(aug)

    def _check_layout(self, aug) -> None:
        """Let an attention-guided augment refuse the backbone's configured
        token layout now rather than at its first batch (it still checks
        every batch, whose size may differ)."""
        layout = self._probe.configured_layout()
        if layout is None or not hasattr(aug, 'check_layout'):
            return
        record, input_size = layout
        try:
            aug.check_layout(record, input_size)
        except ValueError as err:
            raise ValueError(
                f'model.backbone is built for {input_size[0]}x'
                f'{input_size[1]} inputs (img_size), which '
                f'{type(aug).__name__} cannot use: {err}') from err

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

    def token_layout(self) -> AttentionRecord:
        """The backbone's configured token layout (grid, patch size, extra
        tokens), for augments that cut images along token cells."""
        if self._probe is None:
            self._probe = build_attention_probe(self.backbone)
        layout = self._probe.configured_layout()
        if layout is None:
            raise ValueError(
                f'{type(self.backbone).__name__} has no fixed input size, so '
                'its patch size is unknown; set the backbone img_size')
        return layout[0]

    def random_streams(self) -> 'OrderedDict[str, SyncedRandom]':
        """Every synced random stream of the model, by a stable name.

        ``'classifier'`` (the augment choice), then each augment's
        ``SyncedRandom`` attributes as ``'augments.<i>.<attr>'``. These are
        the states ``RandomStateHook`` saves in checkpoints.
        """
        streams = OrderedDict(classifier=self.random)
        for i, aug in enumerate(self.augments):
            for attr, value in vars(aug).items():
                if isinstance(value, SyncedRandom):
                    streams[f'augments.{i}.{attr}'] = value
        return streams

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
            inputs: torch.Tensor,
            score: str = 'patch') -> Tuple[torch.Tensor, AttentionRecord]:
        """Eval-mode, no-grad, float32 forward of an unmixed batch.

        Dropout and stochastic depth are off, as in the official SMMix
        motivating pass, and the train/eval mode is restored afterwards.

        Args:
            inputs (Tensor): (B, C, H, W) images.
            score (str): The attention statistic the caller will compute
                (``'patch'`` or ``'cls'``), so the probe reads its block.

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
                    self._probe.capture(score) as record:
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
        self._step_inputs = (all_finite(inputs),
                             torch.is_autocast_enabled(inputs.device.type))
        aug = self._pick_augment()
        score = self._batch_score(inputs, data_samples)
        mix_info = None
        if getattr(aug, 'requires_model', False):
            inputs, score, mix_info = aug(inputs, score, model=self)
        elif aug is not None:
            inputs, score = aug(inputs, score)
        if getattr(aug, 'requires_mixed_attention', False):
            with self._probe.capture(aug.score) as record:
                feats = self.extract_feat(inputs)
            score = aug.relabel(score, record, self.head(feats))
        else:
            feats = self.extract_feat(inputs)
        for sample, sample_score in zip(data_samples, score):
            sample.set_gt_score(sample_score)
        head_kwargs = self._own_label_kwargs(data_samples)
        if hasattr(aug, 'loss_terms'):
            losses = self.head.loss(feats, data_samples, **head_kwargs)
            losses.update(aug.loss_terms(self.head(feats), mix_info))
            return losses
        if mix_info is not None:
            head_kwargs['mix_info'] = mix_info
        return self.head.loss(feats, data_samples, **head_kwargs)

    def _own_label_kwargs(self, data_samples: List[DataSample]) -> dict:
        """``own_label`` (B,) for a head loss that declares
        ``requires_own_label`` (Decoupled Mixup's reference pairing needs to
        know which mixed class is each image's own), else nothing."""
        loss_module = getattr(self.head, 'loss_module', None)
        if not getattr(loss_module, 'requires_own_label', False):
            return {}
        if 'gt_label' not in data_samples[0]:
            raise ValueError(
                f'{type(loss_module).__name__} needs each image\'s own class '
                '(gt_label), but the samples carry only gt_score')
        return dict(own_label=torch.cat(
            [s.gt_label for s in data_samples]).to(
                data_samples[0].gt_score.device))

    def parse_losses(
        self, losses: Dict[str, torch.Tensor]
    ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """Sum the losses, refusing a step with non-finite inputs or losses.

        Both the plain ``train_step`` and mmengine's DDP wrapper call this
        between the forward and the backward, so it is where a bad step can
        still be stopped on every rank alike.

        Args:
            losses (dict[str, Tensor]): The named outputs of ``loss()``.

        Returns:
            tuple[Tensor, dict]: The loss to back-propagate and the log
            variables (plus ``skipped_steps`` in skip mode).

        Raises:
            FloatingPointError: In ``'raise'`` mode, naming the non-finite
                terms (``inputs`` and/or loss names) and the iteration.
        """
        loss, log_vars = super().parse_losses(losses)
        if self._step_inputs is None:
            raise RuntimeError('MixImageClassifier.parse_losses must follow '
                               'a loss() call of the same step')
        inputs_finite, autocast = self._step_inputs
        self._step_inputs = None
        names = ['inputs'] + [k for k in losses if 'loss' in k]
        finite = torch.stack([inputs_finite] +
                             [all_finite(log_vars[k]) for k in names[1:]])
        bad = (~finite).to(torch.int32)
        all_reduce(bad, op='max')  # every rank takes the same decision
        bad_names = [n for n, b in zip(names, bad.tolist()) if b]
        if not bad_names:
            if self.nonfinite == 'skip':
                log_vars['skipped_steps'] = torch.tensor(self.skipped_steps)
            return loss, log_vars

        iteration = MessageHub.get_current_instance().get_info('iter')
        where = f'iteration {iteration}' if iteration is not None else \
            'this step'
        local = [n for n, ok in zip(names, finite.tolist()) if not ok]
        detail = ', '.join(f'{k}={float(log_vars[k]):g}' if k in log_vars
                           else k for k in local) or 'on another rank'
        what = f"non-finite {', '.join(bad_names)} at {where} ({detail})"
        if self.nonfinite == 'raise':
            raise FloatingPointError(
                f'{what}; the step was not applied, the weights are '
                'unchanged. Check the data and the learning rate, or set '
                "model.train_cfg.nonfinite='skip' to skip such steps")
        self.skipped_steps += 1
        MMLogger.get_current_instance().warning(
            f'{what}: step skipped ({self.skipped_steps} so far)')
        if autocast:
            # AMP: GradScaler skips any step whose gradients are not finite.
            skip_loss = loss * float('nan')
        else:
            # No graph: no parameter gets a gradient, so the step is a no-op.
            skip_loss = loss.new_zeros((), requires_grad=True)
        return skip_loss, OrderedDict(
            skipped_steps=torch.tensor(self.skipped_steps))
