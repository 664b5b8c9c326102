"""Decoupled Mixup loss, usable under any mixing method."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS


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
    the other. ``a``, ``b`` and ``lam`` are read per sample from the label
    (its two largest entries after undoing ``label_smoothing``), so batches
    whose samples have different ``lam`` are weighted right (the reference
    port takes ``lam`` from row 0). A row with a single class (a sample mixed
    with its own class, or an unmixed label) gets the soft cross-entropy
    alone. Drop-in for a head's ``loss`` (also SMMixClsHead's, where the
    region labels are pure).

    Args:
        eta (float): Weight of the decoupled term. Defaults to 0.1.
        label_smoothing (float): The smoothing the labels already carry (set
            it to the mixing augment's, e.g. 0.1 for SMMix). Defaults to 0.
        loss_weight (float): Weight of the whole loss. Defaults to 1.0.
    """

    def __init__(self,
                 eta: float = 0.1,
                 label_smoothing: float = 0.,
                 loss_weight: float = 1.0):
        super().__init__()
        if not eta >= 0:
            raise ValueError(f'DecoupledMixupLoss eta must be >= 0, got {eta}')
        if not 0 <= label_smoothing < 1:
            raise ValueError('DecoupledMixupLoss label_smoothing must be in '
                             f'[0, 1), got {label_smoothing}')
        self.eta = eta
        self.label_smoothing = label_smoothing
        self.loss_weight = loss_weight

    def forward(self,
                cls_score: torch.Tensor,
                label: torch.Tensor,
                weight: Optional[torch.Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None,
                **kwargs) -> torch.Tensor:
        """Compute the loss.

        Args:
            cls_score (Tensor): (B, K) logits.
            label (Tensor): (B, K) soft labels, or (B,) class indices.
            weight (Tensor, optional): (B,) per-sample weights.
            avg_factor (float, optional): Divisor of the sum (default B).
            reduction_override (str, optional): ``'none'``, ``'mean'`` or
                ``'sum'``.

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
        lam, classes = pure.topk(2, dim=1)  # (B, 2): a then b
        mixed = lam[:, 1] > 1e-6
        rows = torch.arange(len(logits), device=logits.device)
        for own, other in ((0, 1), (1, 0)):
            masked = logits.clone()
            masked[rows, classes[:, other]] = float('-inf')
            term = -F.log_softmax(masked, dim=1)[rows, classes[:, own]]
            loss = loss + self.eta * torch.where(
                mixed, lam[:, own] * term, torch.zeros_like(term))

        if weight is not None:
            loss = loss * weight.float()
        reduction = reduction_override or 'mean'
        if reduction == 'none':
            return self.loss_weight * loss
        if reduction == 'sum':
            return self.loss_weight * loss.sum()
        return self.loss_weight * loss.sum() / (
            avg_factor if avg_factor is not None else len(loss))
