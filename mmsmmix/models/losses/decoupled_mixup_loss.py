"""Decoupled Mixup loss, usable under any mixing method."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS

PAIRINGS = ('per_sample', 'reference')
# The reference's ``_eps``: a class is "in the mix" when its (unsmoothed)
# label exceeds it.
_REF_EPS = 1e-3
# How close two rows' label values must be to count as one batch lam
# (undoing label smoothing leaves float rounding). The lam = 0.5 test is
# exact, as the reference's.
_TOL = 1e-5


@MODELS.register_module()
class DecoupledMixupLoss(nn.Module):
    """Decoupled Mixup (Liu et al., "Harnessing Hard Mixed Samples with
    Decoupled Regularizer", NeurIPS 2023).

    Soft cross-entropy against the mixed label plus, for each of the two
    mixed classes ``i`` (partner ``j``), a hard cross-entropy whose softmax
    leaves ``j`` out, weighted by ``eta * lam_i``::

        L = -sum_c y_c log softmax(z)_c
            + eta * sum_{i in {a, b}} lam_i * -log softmax_{C - {j}}(z)_i

    so a confident prediction of one mixed class is no longer penalised by
    the other. A row with a single class (a sample mixed with its own class,
    or an unmixed label) gets the soft cross-entropy alone. Drop-in for a
    head's ``loss`` (also SMMixClsHead's, where the region labels are pure).
    ``label_smoothing`` is undone before the mixed classes and their ``lam``
    are read, in both pairings.

    ``pairing`` chooses which ``lam`` weights which class's term:

    - ``'per_sample'`` (default): the paper's formula. Each row's two mixed
      classes and their ``lam`` are read from that row's own label (its two
      largest entries), so the class holding ``lam_i`` of the label gets
      ``eta * lam_i``, and batches whose samples have different ``lam``
      (per-sample mixing, SMMix's attention relabelling) are weighted right.
      It is the default because it is what the paper writes and it is
      correct for every mixing method.
    - ``'reference'``: reproduces the authors' OpenMixup code
      (``soft_mix_cross_entropy`` fed by ``ClsMixupHead`` with
      ``eta_weight=dict(mode='both')``), bugs included, because the
      published Decoupled Mixup numbers were produced with it. There the
      head passes ``[eta * lam, eta * (1 - lam)]`` (``lam`` = the share of
      each image's own class) and the loss pairs them, in order, with the
      mixed values of the first mixed row *sorted by class index*; every row
      then matches classes to weights by label value. So ``eta * lam`` lands
      on the lower-index class of that row, and the two weights are swapped
      for the whole batch whenever its own class has the larger index. This
      is a bug, as is the second one kept here: the decoupled term is dropped
      when the first mixed row's two label values are exactly equal (the
      reference's ``len(set(lam_k))`` test, i.e. ``lam = 0.5`` up to
      float32 rounding; at ``lam = 0.5 + 4e-6`` it is kept) or when only one
      class is above ``1e-3`` (``min(lam, 1 - lam) <= 1e-3``). Rows mixed
      with their own class get the soft cross-entropy alone, as there. It
      needs each image's own class: ``requires_own_label`` is True, so
      ``MixImageClassifier`` passes ``own_label`` (B,); it may be left out
      when no row is mixed (pure labels, e.g. SMMixClsHead's token-head
      terms). Like the reference it needs one ``lam`` per batch and two
      mixed classes per row, and refuses anything else.

    Args:
        eta (float): Weight of the decoupled term. Defaults to 0.1.
        label_smoothing (float): The smoothing the labels already carry (set
            it to the mixing augment's, e.g. 0.1 for SMMix). Defaults to 0.
        loss_weight (float): Weight of the whole loss. Defaults to 1.0.
        pairing (str): ``'per_sample'`` or ``'reference'`` (see above).
            Defaults to ``'per_sample'``.
    """

    def __init__(self,
                 eta: float = 0.1,
                 label_smoothing: float = 0.,
                 loss_weight: float = 1.0,
                 pairing: str = 'per_sample'):
        super().__init__()
        if not eta >= 0:
            raise ValueError(f'DecoupledMixupLoss eta must be >= 0, got {eta}')
        if not 0 <= label_smoothing < 1:
            raise ValueError('DecoupledMixupLoss label_smoothing must be in '
                             f'[0, 1), got {label_smoothing}')
        if pairing not in PAIRINGS:
            raise ValueError(f'DecoupledMixupLoss pairing must be one of '
                             f'{PAIRINGS}, got {pairing!r}')
        self.eta = eta
        self.label_smoothing = label_smoothing
        self.loss_weight = loss_weight
        self.pairing = pairing

    @property
    def requires_own_label(self) -> bool:
        """Whether the caller must pass ``own_label`` (reference pairing)."""
        return self.pairing == 'reference'

    def forward(self,
                cls_score: torch.Tensor,
                label: torch.Tensor,
                weight: Optional[torch.Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None,
                own_label: Optional[torch.Tensor] = None,
                **kwargs) -> torch.Tensor:
        """Compute the loss.

        Args:
            cls_score (Tensor): (B, K) logits.
            label (Tensor): (B, K) soft labels, or (B,) class indices.
            weight (Tensor, optional): (B,) per-sample weights.
            avg_factor (float, optional): Divisor of the sum (default B).
            reduction_override (str, optional): ``'none'``, ``'mean'`` or
                ``'sum'``.
            own_label (Tensor, optional): (B,) each image's class before
                mixing. Used by the ``'reference'`` pairing only, where it is
                required as soon as a row is mixed.

        Returns:
            Tensor: The loss (per sample for ``'none'``).
        """
        logits = cls_score.float()
        num_classes = logits.shape[1]
        if label.dim() == 1:
            label = F.one_hot(label, num_classes)
        label = label.float()
        log_probs = F.log_softmax(logits, dim=1)
        loss = -(label * log_probs).sum(dim=1)

        eps = self.label_smoothing
        pure = (label - eps / num_classes) / (1 - eps)
        if self.pairing == 'per_sample':
            loss = self._add_per_sample(loss, logits, pure)
        else:
            loss = self._add_reference(loss, logits, label, pure,
                                       own_label)

        if weight is not None:
            loss = loss * weight.float()
        reduction = reduction_override or 'mean'
        if reduction == 'none':
            return self.loss_weight * loss
        if reduction == 'sum':
            return self.loss_weight * loss.sum()
        return self.loss_weight * loss.sum() / (
            avg_factor if avg_factor is not None else len(loss))

    def _add_per_sample(self, loss: torch.Tensor, logits: torch.Tensor,
                        pure: torch.Tensor) -> torch.Tensor:
        """Add ``eta * lam_i * CE_i`` with ``lam_i`` read from each row."""
        lam, classes = pure.topk(2, dim=1)  # (B, 2): a then b
        mixed = lam[:, 1] > 1e-6
        rows = torch.arange(len(logits), device=logits.device)
        for own, other in ((0, 1), (1, 0)):
            masked = logits.clone()
            masked[rows, classes[:, other]] = float('-inf')
            term = -F.log_softmax(masked, dim=1)[rows, classes[:, own]]
            loss = loss + self.eta * torch.where(
                mixed, lam[:, own] * term, torch.zeros_like(term))
        return loss

    def _add_reference(self, loss: torch.Tensor, logits: torch.Tensor,
                       label: torch.Tensor, pure: torch.Tensor,
                       own_label: Optional[torch.Tensor]) -> torch.Tensor:
        """Add the decoupled term paired as OpenMixup's code pairs it."""
        above = pure > _REF_EPS
        counts = above.sum(dim=1)
        mix_num = int(counts.max())
        if mix_num < 2:
            # Pure labels, or min(lam, 1 - lam) <= 1e-3 in every row: the
            # reference's lam_k has one element and the term is skipped.
            return loss
        if mix_num > 2:
            raise ValueError(
                "DecoupledMixupLoss pairing='reference' handles two-class "
                f'mixes only (the reference pairs two eta weights), but a row '
                f'mixes {mix_num} classes above {_REF_EPS}')
        if own_label is None:
            raise ValueError(
                "DecoupledMixupLoss pairing='reference' needs own_label (each "
                "image's class before mixing) when a row is mixed; "
                'MixImageClassifier passes it because requires_own_label is '
                'True')
        own_label = own_label.reshape(-1).to(logits.device).long()
        if own_label.numel() != len(logits):
            raise ValueError(
                f'DecoupledMixupLoss own_label has {own_label.numel()} '
                f'entries for a batch of {len(logits)}')
        mixed = counts == 2
        rows = torch.arange(len(logits), device=logits.device)
        own_in_mix = above[rows, own_label]
        if not bool(own_in_mix[mixed].all()):
            raise ValueError(
                'DecoupledMixupLoss own_label names a class that is not one '
                'of the mixed classes of its row')

        # The reference reads lam_k from its first row after setting aside
        # the single-class rows, i.e. the first mixed row, in class order.
        first = int(mixed.nonzero()[0])
        values0 = pure[first, above[first]].detach()  # class-index order
        lam = pure[first, own_label[first]].detach()
        top_val = pure.topk(2, dim=1).values
        high, low = values0.max(), values0.min()
        off = ((top_val[:, 0] - high).abs() > _TOL) | (
            (top_val[:, 1] - low).abs() > _TOL)
        if bool((off & mixed).any()):
            raise ValueError(
                "DecoupledMixupLoss pairing='reference' needs one lam per "
                'batch (every mixed row carrying the same two label values, '
                "as in the reference); this batch has per-sample lam: use "
                "pairing='per_sample'")
        # The label values as given (smoothed or not): exact comparisons and
        # the order of the two classes, which undoing smoothing could round.
        given0 = label[first, above[first]].detach()
        if given0[0] == given0[1]:
            # The reference's set(lam_k) has one value: term skipped.
            return loss
        top_cls = label.topk(2, dim=1).indices
        # eta_weight = [eta * lam, eta * (1 - lam)] goes to values0[0],
        # values0[1] in that order: swapped when the own class of the first
        # mixed row has the larger index.
        weights = (self.eta * lam, self.eta * (1 - lam))
        if given0[0] > given0[1]:
            w_high, w_low = weights
        else:
            w_low, w_high = weights
        for own, other, w in ((0, 1, w_high), (1, 0, w_low)):
            masked = logits.clone()
            masked[rows, top_cls[:, other]] = float('-inf')
            term = -F.log_softmax(masked, dim=1)[rows, top_cls[:, own]]
            loss = loss + torch.where(mixed, w * term, torch.zeros_like(term))
        return loss
