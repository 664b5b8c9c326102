"""An ImageClassifier whose batch augments may use the model itself."""
import copy
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmpretrain.models import ImageClassifier
from mmpretrain.models.losses import LabelSmoothLoss
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from mmsmmix.engine.compiled_forward import CompiledForward, compile_forwards
from mmsmmix.models.augments.base import MixAugment, MixResult
from mmsmmix.ops import check_attention_statistic
from mmsmmix.utils import SyncedRandom
from .augment_switch import AugmentSwitch
from .mix_context import ClassifierContext
from .nonfinite_guard import NonFiniteGuard


@MODELS.register_module()
class MixImageClassifier(ImageClassifier):
    """Image classifier that mixes batches inside ``loss()``.

    MMPretrain applies ``train_cfg.augments`` in the data preprocessor,
    outside the model, so an augment there can neither run the model (SMMix's
    self-motivated forward) nor hand masks to the head. Here ``loss()``,
    inside the DDP- and AMP-wrapped forward, picks an augment, mixes, forwards
    and learns:

    1. :class:`AugmentSwitch` draws one augment of ``train_cfg.augments``
       (identically on every rank);
    2. the augment's :meth:`~MixAugment.mix` returns a :class:`MixResult`,
       asking the model through a :class:`MixContext` (clean forward with
       attention, training forward, token layout);
    3. the mixed batch is forwarded, inside the attention probe when the
       result asks to be relabelled from that forward;
    4. the head's loss gets the targets as ``gt_score`` and the result's
       ``head_kwargs``, and the result's ``loss_terms`` are added.

    Nothing here depends on which method runs: see
    ``mmsmmix/models/augments/base.py``. MMPretrain's own augments are
    wrapped so that they draw from synced streams too.

    A head loss with ``requires_own_label = True`` (Decoupled Mixup's
    reference pairing) also gets ``own_label`` (B,), each image's class
    before mixing.

    Non-finite guard (:class:`NonFiniteGuard`): a training step whose inputs
    or loss terms are not all finite never reaches the optimizer; by default
    it raises ``FloatingPointError`` naming the terms and the iteration,
    with ``nonfinite='skip'`` it is skipped and ``skipped_steps`` is logged.

    ``predict`` and ``extract_feat`` are those of ``ImageClassifier``;
    :meth:`compile_forwards` compiles ``extract_feat`` (what ``compile=``
    in the config does, through ``CompileHook``).

    Args:
        train_cfg (dict, optional): ``augments`` (a config or a list of
            them), ``probs`` (their probabilities; a sum below 1 leaves
            the rest of the batches unmixed) and ``nonfinite`` (``'raise'``,
            the default, or ``'skip'``).
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
        data_preprocessor = dict(data_preprocessor or {})
        data_preprocessor.setdefault('type', 'ClsDataPreprocessor')
        if data_preprocessor.get('batch_augments'):
            raise ValueError(
                'MixImageClassifier mixes in loss(): put the augments in '
                'model.train_cfg.augments, not in '
                'data_preprocessor.batch_augments')
        guard = NonFiniteGuard(nonfinite)
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            pretrained=pretrained,
            train_cfg=None,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.guard = guard
        self.switch = AugmentSwitch(augments, probs)
        self.mix_context = ClassifierContext(self)
        #: The augment of the training step under way (its name, 'unmixed'
        #: or None outside ``loss()``), for compile warnings.
        self.step_augment: Optional[str] = None
        for aug in self.augments:
            self._check_augment(aug)

    @property
    def augments(self) -> List[MixAugment]:
        """The augments of ``train_cfg``, in order."""
        return self.switch.augments

    def _check_augment(self, aug: MixAugment) -> None:
        """Refuse, when the model is built, what an augment cannot use: a
        second smoothing in the head, a backbone without readable attention,
        an attention statistic the backbone cannot give (e.g. ``'cls'``
        without a class token) or a token layout the augment refuses."""
        if aug.label_smoothing and isinstance(
                getattr(self.head, 'loss_module', None), LabelSmoothLoss):
            raise ValueError(
                f'{type(aug).__name__} already smooths labels '
                f'(label_smoothing={aug.label_smoothing}); use '
                "model.head.loss=dict(type='CrossEntropyLoss', "
                'use_soft=True) or set label_smoothing=0 in the augment')
        if aug.attn_stat is not None:
            check_attention_statistic(aug.attn_stat,
                                      self.mix_context.probe.class_token,
                                      type(self.backbone).__name__, aug.name)
        elif not aug.uses_layout:
            return
        layout = self.mix_context.configured_layout()
        if layout is None:
            return
        record, input_size = layout
        try:
            aug.check_layout(record, input_size)
        except ValueError as err:
            raise ValueError(
                f'model.backbone is built for {input_size[0]}x'
                f'{input_size[1]} inputs (img_size), which '
                f'{type(aug).__name__} cannot use: {err}') from err

    def random_streams(self) -> 'OrderedDict[str, SyncedRandom]':
        """Every synced random stream of the model, by a stable name:
        ``'classifier'`` (the augment choice), then each augment's
        ``random_streams()`` as ``'augments.<i>.<name>'``. These are the
        states ``RandomStateHook`` saves in checkpoints."""
        return self.switch.random_streams()

    def optional_streams(self) -> set:
        """Streams a resumed checkpoint may lack (see
        :meth:`AugmentSwitch.optional_streams`)."""
        return self.switch.optional_streams()

    def batch_targets(self, inputs: torch.Tensor,
                      data_samples: List[DataSample]) -> torch.Tensor:
        """(B, K) float targets: ``gt_score`` if present, else one-hot."""
        if 'gt_score' in data_samples[0]:
            return torch.stack([s.gt_score for s in data_samples]).float()
        labels = torch.cat([s.gt_label for s in data_samples])
        return F.one_hot(labels.to(inputs.device),
                         self.head.num_classes).float()

    def mix(self, augment: Optional[MixAugment], inputs: torch.Tensor,
            targets: torch.Tensor) -> MixResult:
        """The batch ``augment`` makes (unchanged for None)."""
        if augment is None:
            return MixResult(inputs, targets)
        return augment.mix(inputs, targets, self.mix_context)

    def forward_mixed(
            self, result: MixResult) -> Tuple[Tuple[torch.Tensor, ...],
                                              torch.Tensor]:
        """Features of the mixed batch, and its targets after relabelling
        from this forward if the result asks for it."""
        if result.relabel is None:
            return self.extract_feat(result.inputs), result.targets
        relabel = result.relabel
        with self.mix_context.probe.capture(relabel.attn_stat,
                                            relabel.blocks,
                                            relabel.reduce) as record:
            feats = self.extract_feat(result.inputs)
        return feats, relabel.fn(record, self.head(feats))

    def loss(self, inputs: torch.Tensor,
             data_samples: List[DataSample]) -> dict:
        """Pick an augment, mix, forward, and compute the losses.

        Args:
            inputs (Tensor): (B, C, H, W) normalised images.
            data_samples (list[DataSample]): Their annotations.

        Returns:
            dict[str, Tensor]: The head's losses and the augment's terms.
        """
        self.guard.arm(inputs)
        augment = self.switch.pick()
        self.step_augment = 'unmixed' if augment is None else augment.name
        try:
            result = self.mix(augment, inputs,
                              self.batch_targets(inputs, data_samples))
            feats, targets = self.forward_mixed(result)
            for sample, target in zip(data_samples, targets):
                sample.set_gt_score(target)
            losses = self.head.loss(feats, data_samples,
                                    **self._own_label_kwargs(data_samples),
                                    **result.head_kwargs)
            if result.loss_terms is not None:
                losses.update(result.loss_terms(self.head(feats)))
        finally:
            self.step_augment = None
        return losses

    def compile_forwards(self,
                         compile_cfg: Optional[dict] = None
                         ) -> CompiledForward:
        """``torch.compile`` the backbone and neck (``extract_feat``), which
        every forward of a step goes through (mixed batch, SMMix's clean
        pass, relabelling and RankMixup forwards), probes' hooks included;
        the step's Python (draws, relabelling, losses, guard) stays eager.
        A compile failure is logged (naming the step's augment) and the
        model goes on eagerly (see :class:`CompiledForward`).

        Args:
            compile_cfg (dict, optional): Keyword arguments of
                ``torch.compile`` (e.g. ``dict(backend='aot_eager')``).

        Returns:
            CompiledForward: The new ``self.extract_feat``.
        """
        return compile_forwards(self, compile_cfg,
                                describe=lambda: self.step_augment)

    def _own_label_kwargs(self, data_samples: List[DataSample]) -> dict:
        """``own_label`` (B,) for a head loss that declares
        ``requires_own_label``, else nothing."""
        loss_module = getattr(self.head, 'loss_module', None)
        if not getattr(loss_module, 'requires_own_label', False):
            return {}
        if 'gt_label' not in data_samples[0]:
            raise ValueError(
                f"{type(loss_module).__name__} needs each image's own class "
                '(gt_label), but the samples carry only gt_score')
        return dict(own_label=torch.cat(
            [s.gt_label for s in data_samples]).to(
                data_samples[0].gt_score.device))

    def parse_losses(
        self, losses: Dict[str, torch.Tensor]
    ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """Sum the losses, refusing a step with non-finite inputs or losses
        (see :class:`NonFiniteGuard`).

        Returns:
            tuple[Tensor, dict]: The loss to back-propagate and the log
            variables (plus ``skipped_steps`` in skip mode).
        """
        loss, log_vars = super().parse_losses(losses)
        return self.guard.check(losses, loss, log_vars)
