"""SMMix's consistency term between mixed and unmixed predictions."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS


@MODELS.register_module()
class SMMixConsistencyLoss(nn.Module):
    """KL(teacher || student) with an area-mixed teacher, as officially coded.

    The teacher mixes the *logits* of the unmixed pair with the area share,
    then applies softmax: ``p = softmax(lam * z + (1 - lam) * z.flip(0))``;
    the student is ``q = softmax(cls_score)`` of the mixed image. The loss is
    ``sum_i sum_c p_ic (log p_ic - log q_ic) / B`` (``batchmean``), with no
    gradient into the teacher.

    Args:
        loss_weight (float): Weight of the term. Defaults to 1.0.
    """

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, cls_score: torch.Tensor, clean_logits: torch.Tensor,
                lam: float) -> torch.Tensor:
        """Compute the loss.

        Args:
            cls_score (Tensor): (B, K) logits of the mixed images.
            clean_logits (Tensor): (B, K) logits of the unmixed images, in
                batch order (partner of i is B-1-i).
            lam (float): Target's area share.

        Returns:
            Tensor: Scalar loss.
        """
        clean_logits = clean_logits.detach().float()
        teacher = lam * clean_logits + (1 - lam) * clean_logits.flip(0)
        return self.loss_weight * F.kl_div(
            F.log_softmax(cls_score.float(), dim=1),
            F.softmax(teacher, dim=1),
            reduction='batchmean')
