"""RankMixup's ranking losses between clean and mixed predictions."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.registry import MODELS

RANKMIXUP_MODES = ('mrl', 'mndcg')
MRL_MASKS = ('official', 'per_row')


@MODELS.register_module()
class RankMixupLoss(nn.Module):
    """Ranking term of RankMixup (Noh et al., "RankMixup: Ranking-Based
    Mixup Training for Network Calibration", ICCV 2023).

    A mixed sample should not be more confident than the clean one it came
    from, and less confident the less of it remains. ``relevance`` of a mixed
    row is ``max(lam, 1 - lam)``, or exactly 1 for a row mixed with its own
    class (it is then not an augmented sample to rank).

    - ``'mrl'`` (Mixup-based Ranking Loss): the hinges
      ``relu(max_logit(mixed) - max_logit(clean) + margin)`` of the rows
      with ``relevance < 1``. The official code multiplies the (B,) mask by
      the (B, 1) hinges, which broadcasts to (B, B): its mean is
      ``mean(mask) * mean(hinge)``, every row's hinge counted whether or not
      that row met its own class. ``mrl_mask='official'`` (the default, as
      published numbers were produced with it) computes exactly that, per
      mixed batch; ``mrl_mask='per_row'`` gives each row its own mask,
      ``mean(mask * hinge)``, which is what the paper describes.
    - ``'mndcg'`` (Mixup-based normalised DCG): per clean sample, the softmax
      confidences of ``[clean, mixed_1..k]`` (mixed ones sorted by
      relevance, descending) are discounted by ``log2(rank + 1)`` and
      compared with the ideal ``[1, relevance sorted]``; the loss is the
      mean of ``1 - min(DCG / IDCG, IDCG / DCG)``, as in the official code.

    Args:
        mode (str): ``'mrl'`` or ``'mndcg'``. Defaults to ``'mrl'``.
        margin (float): Hinge margin of ``'mrl'`` (official: 2.0 on
            CIFAR, 1.0 on Tiny-ImageNet). Defaults to 2.0.
        loss_weight (float): The paper's ``alpha``. Defaults to 0.1.
        mrl_mask (str): ``'official'`` or ``'per_row'``. Defaults to
            'official'.
    """

    def __init__(self,
                 mode: str = 'mrl',
                 margin: float = 2.0,
                 loss_weight: float = 0.1,
                 mrl_mask: str = 'official'):
        super().__init__()
        if mode not in RANKMIXUP_MODES:
            raise ValueError(f'RankMixupLoss mode must be one of '
                             f'{RANKMIXUP_MODES}, got {mode!r}')
        if mrl_mask not in MRL_MASKS:
            raise ValueError(f'RankMixupLoss mrl_mask must be one of '
                             f'{MRL_MASKS}, got {mrl_mask!r}')
        self.mrl_mask = mrl_mask
        if not margin >= 0:
            raise ValueError(
                f'RankMixupLoss margin must be >= 0, got {margin}')
        self.mode = mode
        self.margin = margin
        self.loss_weight = loss_weight

    def forward(self, clean_logits: torch.Tensor, mixed_logits: torch.Tensor,
                relevance: torch.Tensor) -> torch.Tensor:
        """Compute the weighted ranking loss.

        Args:
            clean_logits (Tensor): (B, K) logits of the clean batch.
            mixed_logits (Tensor): (k, B, K) logits of ``k`` mixed batches;
                row ``i`` of each is mixed from clean sample ``i``.
            relevance (Tensor): (k, B) ``max(lam, 1 - lam)`` per mixed row,
                1 where a row was mixed with its own class.

        Returns:
            Tensor: The scalar loss.
        """
        if mixed_logits.dim() != 3 or mixed_logits.shape[1:] != \
                clean_logits.shape or relevance.shape != \
                mixed_logits.shape[:2]:
            raise ValueError(
                'RankMixupLoss expects clean (B, K), mixed (k, B, K) and '
                f'relevance (k, B), got {tuple(clean_logits.shape)}, '
                f'{tuple(mixed_logits.shape)} and {tuple(relevance.shape)}')
        clean = clean_logits.float()
        mixed = mixed_logits.float()
        relevance = relevance.float()
        if self.mode == 'mrl':
            hinge = F.relu(mixed.amax(dim=2) - clean.amax(dim=1) +
                           self.margin)
            mask = (relevance < 1).to(hinge)  # (k, B)
            if self.mrl_mask == 'official':
                loss = (mask.mean(dim=1) * hinge.mean(dim=1)).mean()
            else:
                loss = (mask * hinge).mean()
        else:
            loss = (1 - self._ndcg(clean, mixed, relevance)).mean()
        return self.loss_weight * loss

    @staticmethod
    def _ndcg(clean: torch.Tensor, mixed: torch.Tensor,
              relevance: torch.Tensor) -> torch.Tensor:
        """(B,) ``min(DCG / IDCG, IDCG / DCG)`` of each clean sample."""
        conf_clean = clean.softmax(dim=1).amax(dim=1, keepdim=True)
        conf_mixed = mixed.softmax(dim=2).amax(dim=2).t()  # (B, k)
        rel = relevance.t()
        order = rel.argsort(dim=1, descending=True)
        conf = torch.cat([conf_clean, conf_mixed.gather(1, order)], dim=1)
        ideal = torch.cat([torch.ones_like(conf_clean), rel.gather(1, order)],
                          dim=1)
        ranks = torch.arange(2, conf.shape[1] + 2, device=conf.device)
        discount = torch.log2(ranks.to(conf))
        dcg = (conf / discount).sum(dim=1)
        idcg = (ideal / discount).sum(dim=1)
        return torch.minimum(dcg / idcg, idcg / dcg)
