"""RankMixup batch augment: clean and mixed forwards, ranked."""
from typing import Dict, Optional, Tuple

import torch
from mmpretrain.registry import BATCH_AUGMENTS, MODELS

from mmsmmix.utils import check_finite_positive
from .base import MixAugment, MixContext, MixResult


@BATCH_AUGMENTS.register_module()
class RankMixup(MixAugment):
    """RankMixup (Noh et al., "RankMixup: Ranking-Based Mixup Training for
    Network Calibration", ICCV 2023).

    The classifier trains on the *clean* batch (the head's loss on the
    unmixed labels, as the official code's cross-entropy), and this augment
    adds a ranking term: it forwards ``num_mixups`` Mixup batches (each
    ``lam ~ Beta(alpha, alpha)`` and a random partner permutation, as the
    official ``mixup_process``) through the model in training mode, with
    gradient, and :meth:`loss_terms` ranks their confidences below the
    clean ones (``RankMixupLoss``; MRL with one mixed batch, M-NDCG with
    several, as the official configs). Mixed labels never enter a
    cross-entropy. The draws come from a stream identical on every rank.

    Its result is the clean batch, with ``loss_terms`` that rank the mixed
    logits (computed during the mix) against the clean batch's.

    Args:
        alpha (float): Beta parameter of Mixup's ``lam`` (official: 2.0 on
            CIFAR). Defaults to 2.0.
        num_mixups (int): Mixed batches per step (official: 1 for MRL, 3
            for M-NDCG). Defaults to 1.
        loss (dict): Config of the ranking loss. Defaults to
            ``dict(type='RankMixupLoss', mode='mrl', margin=2.0,
            loss_weight=0.1)``.
        seed (int, optional): Seed of the draws; None takes the Runner's.
    """

    uses_model = True

    def __init__(self,
                 alpha: float = 2.0,
                 num_mixups: int = 1,
                 loss: dict = dict(
                     type='RankMixupLoss',
                     mode='mrl',
                     margin=2.0,
                     loss_weight=0.1),
                 seed: Optional[int] = None):
        super().__init__(seed)
        check_finite_positive('RankMixup', 'alpha', alpha)
        if int(num_mixups) != num_mixups or num_mixups < 1:
            raise ValueError('RankMixup num_mixups must be an integer >= 1, '
                             f'got {num_mixups}')
        self.alpha = alpha
        self.num_mixups = int(num_mixups)
        self.loss = MODELS.build(loss)


    def mix_batches(
            self, inputs: torch.Tensor,
            batch_score: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Draw the Mixup batches.

        Args:
            inputs (Tensor): (B, C, H, W) images.
            batch_score (Tensor): (B, K) one-hot or soft labels.

        Returns:
            tuple: (k * B, C, H, W) mixed images (batch ``j`` in rows
            ``j*B .. (j+1)*B - 1``) and (k, B) relevances ``max(lam,
            1 - lam)``, 1 where a sample met its own class.
        """
        size = inputs.shape[0]
        label = batch_score.argmax(dim=1)
        mixed, relevance = [], []
        for _ in range(self.num_mixups):
            lam = self.random.beta(self.alpha)
            perm = torch.from_numpy(self.random.rng.permutation(size)).to(
                inputs.device)
            mixed.append(lam * inputs + (1 - lam) * inputs[perm])
            rel = torch.full((size, ), max(lam, 1 - lam),
                             device=inputs.device)
            relevance.append(rel.masked_fill(label == label[perm], 1.))
        return torch.cat(mixed), torch.stack(relevance)

    def mix(self,
            inputs: torch.Tensor,
            targets: torch.Tensor,
            context: Optional[MixContext] = None) -> MixResult:
        """Forward the mixed batches; leave the batch itself clean.

        Args:
            inputs (Tensor): (B, C, H, W) images.
            targets (Tensor): (B, K) labels.
            context (MixContext): The model's training forward.

        Returns:
            MixResult: The clean images and labels; ``loss_terms`` gives
            ``loss_rank`` from the clean logits; ``info``: ``mixed_logits``
            (k, B, K) (with gradient) and ``relevance`` (k, B).
        """
        context = self.require_context(context)
        mixed, relevance = self.mix_batches(inputs, targets)
        mixed_logits = context.forward(mixed).reshape(
            self.num_mixups, inputs.shape[0], -1)

        def loss_terms(logits: torch.Tensor) -> Dict[str, torch.Tensor]:
            return dict(loss_rank=self.loss(logits, mixed_logits, relevance))

        return MixResult(
            inputs, targets, loss_terms=loss_terms,
            info=dict(mixed_logits=mixed_logits, relevance=relevance))

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(alpha={self.alpha}, '
                f'num_mixups={self.num_mixups}, mode={self.loss.mode})')
