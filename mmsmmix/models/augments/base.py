"""The mixing protocol: what a batch augment of ``MixImageClassifier`` is.

An augment turns a batch and its (B, K) targets into a :class:`MixResult`.
It asks the model for what it needs through a :class:`MixContext` (never the
model itself) and declares, once, what that is:

- ``uses_model``: ``mix`` gets a context (a model-free augment gets None
  and also works as MMPretrain's ``data_preprocessor`` batch augment);
- ``attn_stat``: the attention statistic it reads (``'patch'``, ``'cls'``
  or ``'pooled'``, :data:`mmsmmix.ops.ATTENTION_STATISTICS`); the classifier
  then builds an attention probe for the backbone, refuses a statistic the
  backbone cannot give (``'cls'`` without a class token) and calls
  :meth:`check_layout` with the backbone's token layout when the model is
  built (also for an augment that ``uses_layout`` only);
- ``label_smoothing``: the smoothing it applies to its targets itself (a
  head that smooths too is refused);
- :meth:`random_streams`: every random stream it draws from (by default
  ``self.random``, made by ``MixAugment.__init__``), which the classifier
  checkpoints (exact resume) and which are identical on every rank.

What happens after the mix is said per batch, in the result: extra inputs
of ``head.loss`` (SMMix's regions), a relabelling from the forward that
trains on the batch (TransMix, MixPro's PAL) and extra loss terms from its
logits (RankMixup). It also says which pixels came from which image
(``partner``, ``partner_share``; ``forwarded`` for mixed images the
augment forwards itself), for tools such as ``tools/visualize_mixing.py``.

A new method is one subclass::

    @BATCH_AUGMENTS.register_module()
    class HalfSwap(MixAugment):
        '''Swap the left halves of each image and its partner.'''

        def __init__(self, seed=None):
            super().__init__(seed)  # self.random: a stream named 'HalfSwap'

        def mix(self, inputs, targets, context=None):
            index = partner_index(len(inputs), 'randperm', self.random.rng)
            mixed = inputs.clone()
            half = inputs.shape[-1] // 2
            mixed[..., :half] = inputs[index][..., :half]
            lam = 1 - half / inputs.shape[-1]  # the image's own share
            return MixResult(mixed, mix_targets(targets, lam, targets[index]))
"""
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, Tuple, Union

import torch

from mmsmmix.models.probes import AttentionRecord
from mmsmmix.utils import SyncedRandom
from mmsmmix.utils.precision import precision_support, warn_if_emulated


@dataclass
class Relabel:
    """Relabel a batch from the forward that trains on it (no extra
    forward).

    Attributes:
        attn_stat (str): The statistic the probe records during that
            forward.
        fn (Callable): ``fn(record, logits) -> (B, K) targets``, with the
            probe's :class:`AttentionRecord` of that forward and its class
            logits (with gradient: detach what must not carry one).
        blocks (str): ``'last'`` (the block the statistic is read at) or
            ``'all'`` (every block, in ``record.blocks``), as
            :meth:`AttentionProbe.capture`.
        reduce (Callable, optional): What the capture keeps of each block's
            attention (e.g. :func:`mmsmmix.ops.head_mean`), as
            :meth:`AttentionProbe.capture`.
    """
    attn_stat: str
    fn: Callable[[AttentionRecord, torch.Tensor], torch.Tensor]
    blocks: str = 'last'
    reduce: Optional[Callable] = None


@dataclass
class ForwardedMix:
    """Mixed images an augment forwards itself (``MixContext.forward``)
    beside the batch it trains on: RankMixup's Mixup batches, ranked
    against the clean batch.

    Attributes:
        inputs (Tensor): (M, C, H, W) the mixed images.
        own (Tensor): (M,) long, the index in the unmixed batch of each
            image's own image.
        partner (Tensor): (M,) long, that of its partner.
        partner_share (Tensor): (M, 1, H, W) float in [0, 1], as
            :attr:`MixResult.partner_share`.
    """
    inputs: torch.Tensor
    own: torch.Tensor
    partner: torch.Tensor
    partner_share: torch.Tensor


@dataclass
class MixResult:
    """One mixed batch.

    Attributes:
        inputs (Tensor): (B, C, H, W) the images to train on.
        targets (Tensor): (B, K) their soft targets (replaced by
            ``relabel`` when given).
        head_kwargs (dict): Extra keyword inputs of ``head.loss`` (SMMix:
            ``mix_info``).
        relabel (Relabel, optional): Relabel from the training forward.
        loss_terms (Callable, optional): ``loss_terms(logits) -> dict`` of
            named losses added to the head's, from the class logits of the
            trained batch (with gradient).
        info (dict): What was drawn (branch, region side, mask, lam ...),
            for tools and tests; the classifier ignores it.
        partner (Tensor, optional): (B,) long, the index in the unmixed
            batch of each image's partner, the image its pasted or blended
            pixels come from (itself where a permutation pairs it so, and
            where nothing was mixed).
        partner_share (Tensor, optional): (B, 1, H, W) float in [0, 1], how
            much of each pixel of ``inputs`` comes from the partner: 1 on a
            pasted region, 0 where the image kept its own pixel, ``1 - lam``
            everywhere for Mixup. A pasted pixel need not come from the
            same place of the partner (SMMix moves a window, ResizeMix
            shrinks the whole partner). May be a broadcast view (read it,
            do not write into it).
        forwarded (ForwardedMix, optional): Mixed images the augment
            forwarded itself beside ``inputs`` (RankMixup).

    ``partner``, ``partner_share`` and ``forwarded`` say which pixels came
    from which image, for tools and tests; every augment of this package
    fills the first two (None: not said, e.g. by an augment of one's own)
    and the classifier ignores all three.
    """
    inputs: torch.Tensor
    targets: torch.Tensor
    head_kwargs: Dict[str, Any] = field(default_factory=dict)
    relabel: Optional[Relabel] = None
    loss_terms: Optional[Callable[[torch.Tensor],
                                  Dict[str, torch.Tensor]]] = None
    info: Dict[str, Any] = field(default_factory=dict)
    partner: Optional[torch.Tensor] = None
    partner_share: Optional[torch.Tensor] = None
    forwarded: Optional[ForwardedMix] = None


def flip_partner(inputs: torch.Tensor) -> torch.Tensor:
    """(B,) long ``B-1 .. 0`` on the inputs' device: the partners of the
    batch reversed (``x.flip(0) == x[flip_partner(x)]``)."""
    return torch.arange(len(inputs) - 1, -1, -1, device=inputs.device)


def pixel_share(inputs: torch.Tensor,
                share: Union[float, torch.Tensor]) -> torch.Tensor:
    """The :attr:`MixResult.partner_share` of a batch like ``inputs``.

    Args:
        inputs (Tensor): (B, C, H, W) the batch (its size and device).
        share (float | Tensor): A number (every pixel blended alike) or a
            mask broadcastable to (B, 1, H, W) (bool: True where pasted).

    Returns:
        Tensor: (B, 1, H, W) float32; a broadcast view, not a copy, of what
        is the same for every image.
    """
    b, _, h, w = inputs.shape
    if not torch.is_tensor(share):
        share = torch.tensor(float(share))
    return share.to(inputs.device, torch.float32).expand(b, 1, h, w)


#: Precisions of a clean (motivating) pass: ``'float32'`` runs it outside
#: any autocast (the official code); the others under autocast of that
#: dtype on the inputs' device. ``'auto'`` is bfloat16 where the device
#: computes it natively, float32 elsewhere
#: (:func:`mmsmmix.utils.precision.precision_support`).
MOTIVATING_DTYPES = {
    'float32': torch.float32,
    'bfloat16': torch.bfloat16,
    'float16': torch.float16,
}
AUTO = 'auto'


def check_motivating_dtype(owner: str, dtype: str) -> str:
    """Check a ``motivating_dtype`` name (ValueError naming ``owner`` and
    the choices otherwise); a low precision that the Runner's device
    emulates gets a one-line :class:`SlowPrecisionWarning`."""
    choices = sorted(MOTIVATING_DTYPES) + [AUTO]
    if dtype not in choices:
        raise ValueError(f'{owner} motivating_dtype must be one of '
                         f'{choices}, got {dtype!r}')
    if dtype not in ('float32', AUTO):
        warn_if_emulated(f'{owner} motivating_dtype={dtype!r}', dtype)
    return dtype


def motivating_torch_dtype(dtype: str, device: str) -> torch.dtype:
    """The torch dtype of a checked ``motivating_dtype`` name for a pass on
    ``device`` (a device type); ``'auto'`` resolved there."""
    if dtype == AUTO:
        return torch.bfloat16 if precision_support(
            device, 'bfloat16').native else torch.float32
    return MOTIVATING_DTYPES[dtype]


class MixContext:
    """What an augment may ask of the model while it mixes a batch."""

    def clean_forward(
            self,
            inputs: torch.Tensor,
            attn_stat: str,
            dtype: torch.dtype = torch.float32
    ) -> Tuple[torch.Tensor, AttentionRecord]:
        """Eval-mode, no-grad forward of an unmixed batch: float32 outside
        any autocast by default, else under autocast of ``dtype``; the
        recorded attention is float32 either way.

        Args:
            inputs (Tensor): (B, C, H, W) images.
            attn_stat (str): The statistic the caller will compute from the
                recorded attention.
            dtype (torch.dtype): Precision of the pass (see
                :data:`MOTIVATING_DTYPES`).

        Returns:
            tuple: Class logits (B, K) and the probe's record.
        """
        raise NotImplementedError

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Class logits (B, K) of a training-mode forward, with gradient."""
        raise NotImplementedError

    def token_layout(self) -> AttentionRecord:
        """The backbone's configured token layout: an
        :class:`AttentionRecord` without ``attn`` (grid, patch size, extra
        tokens)."""
        raise NotImplementedError


def _built_by_mmpretrain_data_preprocessor() -> bool:
    """Whether the object under construction is being built by MMPretrain's
    ``RandomBatchAugment`` (``data_preprocessor.batch_augments``): the only
    place MMPretrain builds batch augments, found by its code object among
    the calling frames."""
    from mmpretrain.models.utils.batch_augments import RandomBatchAugment
    code = RandomBatchAugment.__init__.__code__
    frame = inspect.currentframe()
    try:
        for _ in range(12):
            if frame is None:
                return False
            if frame.f_code is code:
                return True
            frame = frame.f_back
        return False
    finally:
        del frame


class _RefusedWhereLost(type):
    """Metaclass of :class:`MixAugment`: once an augment is built, refuse
    it if MMPretrain's data preprocessor built it and the plain call would
    lose part of the method (:meth:`MixAugment.plain_call_loss`)."""

    def __call__(cls, *args, **kwargs):
        augment = super().__call__(*args, **kwargs)
        lost = augment.plain_call_loss()
        if lost and _built_by_mmpretrain_data_preprocessor():
            raise augment.plain_call_error(
                lost, "built by MMPretrain's data preprocessor from "
                'data_preprocessor.batch_augments, or from '
                'train_cfg.augments of a classifier that is not a '
                'MixImageClassifier')
        return augment


class MixAugment(metaclass=_RefusedWhereLost):
    """Base of every batch augment that ``MixImageClassifier`` runs.

    Subclasses call ``super().__init__(seed)``, implement :meth:`mix` and
    draw from ``self.random`` (or declare other streams in
    :meth:`random_streams`).

    MMPretrain's plain batch-augment call (``aug(inputs, scores)``, from
    ``data_preprocessor.batch_augments`` of any classifier) gets only the
    mixed images and targets. An augment for which that would lose part of
    the method (it runs the model, relabels from the training forward,
    hands extras to the head or adds loss terms) says so in
    :meth:`plain_call_loss` and is refused there: when MMPretrain's data
    preprocessor builds it, and when it is called so.
    """

    #: Whether :meth:`mix` needs a :class:`MixContext`.
    uses_model: bool = False
    #: The attention statistic read (None: no attention).
    attn_stat: Optional[str] = None
    #: Smoothing the augment applies to its own targets (a head that
    #: smooths again is refused).
    label_smoothing: float = 0.
    #: Whether :meth:`mix` reads the backbone's token layout
    #: (``context.token_layout()``) without reading attention; the
    #: classifier then also calls :meth:`check_layout` when it is built.
    uses_layout: bool = False

    def __init__(self, seed: Optional[int] = None):
        #: The augment's draws: a stream named after the method, identical
        #: on every rank (``seed`` None takes the Runner's seed).
        self.random = SyncedRandom(seed, stream=self.name)

    @property
    def name(self) -> str:
        """The method's name (its registered type)."""
        return type(self).__name__

    def random_streams(self) -> Dict[str, SyncedRandom]:
        """Name -> stream of every random stream the augment draws from
        (by default its one stream ``self.random``)."""
        return dict(random=self.random)

    def check_layout(self, layout: AttentionRecord, image_hw) -> None:
        """Raise ValueError if the backbone's token layout (``grid``,
        ``patch_size``) at inputs of ``image_hw`` is unusable; called when
        the model is built."""

    def mix(self,
            inputs: torch.Tensor,
            targets: torch.Tensor,
            context: Optional[MixContext] = None) -> MixResult:
        """Mix a batch.

        Args:
            inputs (Tensor): (B, C, H, W) normalised images.
            targets (Tensor): (B, K) one-hot or soft targets.
            context (MixContext, optional): The model's services (None for
                a model-free call).

        Returns:
            MixResult: The batch to train on.
        """
        raise NotImplementedError

    def plain_call_loss(self) -> Optional[str]:
        """What MMPretrain's plain call (images and targets only) would lose
        of this method, or None if it runs there whole. By default: the
        model, for an augment that ``uses_model``."""
        if self.uses_model:
            return 'the forward of the model it runs while mixing'
        return None

    def plain_call_error(self, lost: str, where: str) -> TypeError:
        """The one error of an augment refused on the plain path."""
        return TypeError(
            f'{self.name} cannot run as a plain batch augment ({where}): '
            f'{lost} would be lost. Set model.type=\'MixImageClassifier\' '
            'and put it in model.train_cfg.augments')

    def __call__(self, inputs: torch.Tensor,
                 batch_score: torch.Tensor) -> Tuple[torch.Tensor,
                                                     torch.Tensor]:
        """MMPretrain's batch-augment call, for augments that lose nothing
        there (:meth:`plain_call_loss`); the others raise TypeError."""
        where = 'aug(inputs, scores)'
        lost = self.plain_call_loss()
        if lost:
            raise self.plain_call_error(lost, where)
        result = self.mix(inputs, batch_score)
        extras = [name for name, given in (
            ('its relabelling from the training forward', result.relabel),
            ("its head's extra inputs", result.head_kwargs),
            ('its extra loss terms', result.loss_terms)) if given]
        if extras:  # a subclass that did not declare it
            raise self.plain_call_error(' and '.join(extras), where)
        return result.inputs, result.targets

    def require_context(self, context: Optional[MixContext]) -> MixContext:
        """``context``, or a clear error if the model was not given."""
        if context is None:
            raise self.plain_call_error(
                'the forward of the model it runs while mixing',
                'mix() without the model')
        return context
