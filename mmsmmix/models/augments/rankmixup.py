"""RankMixup batch augment: clean and mixed forwards, ranked."""
from typing import Dict, Optional, Tuple

import torch
from mmpretrain.registry import BATCH_AUGMENTS, MODELS

from mmsmmix.utils import check_finite_positive
from .base import ForwardedMix, MixAugment, MixContext, MixResult, pixel_share


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
        forwarded, relevance = self.draw_batches(inputs, batch_score)
        return forwarded.inputs, relevance

    def draw_batches(
            self, inputs: torch.Tensor,
            batch_score: torch.Tensor) -> Tuple[ForwardedMix, torch.Tensor]:
        """:meth:`mix_batches`, the images with who mixed with whom: a
        :class:`ForwardedMix` of the k * B mixed images (partners of batch
        ``j``: its permutation; share ``1 - lam_j`` everywhere) and the
        (k, B) relevances."""
        size = inputs.shape[0]
        label = batch_score.argmax(dim=1)
        mixed, relevance, partners, shares = [], [], [], []
        for _ in range(self.num_mixups):
            lam = self.random.beta(self.alpha)
            perm = torch.from_numpy(self.random.rng.permutation(size)).to(
                inputs.device)
            mixed.append(lam * inputs + (1 - lam) * inputs[perm])
            rel = torch.full((size, ), max(lam, 1 - lam),
                             device=inputs.device)
            relevance.append(rel.masked_fill(label == label[perm], 1.))
            partners.append(perm)
            shares.append(1 - lam)
        share = torch.tensor(shares, device=inputs.device).repeat_interleave(
            size).reshape(-1, 1, 1, 1)
        forwarded = ForwardedMix(
            torch.cat(mixed),
            own=torch.arange(size, device=inputs.device).repeat(
                self.num_mixups),
            partner=torch.cat(partners),
            partner_share=share.expand(-1, 1, *inputs.shape[-2:]))
        return forwarded, torch.stack(relevance)

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
            (k, B, K) (with gradient) and ``relevance`` (k, B);
            ``partner``: each image itself, ``partner_share``: 0 (the batch
            is clean); ``forwarded``: the Mixup batches.
        """
        context = self.require_context(context)
        forwarded, relevance = self.draw_batches(inputs, targets)
        mixed_logits = context.forward(forwarded.inputs).reshape(
            self.num_mixups, inputs.shape[0], -1)

        def loss_terms(logits: torch.Tensor) -> Dict[str, torch.Tensor]:
            return dict(loss_rank=self.loss(logits, mixed_logits, relevance))

        return MixResult(
            inputs, targets, loss_terms=loss_terms,
            info=dict(mixed_logits=mixed_logits, relevance=relevance),
            partner=torch.arange(len(inputs), device=inputs.device),
            partner_share=pixel_share(inputs, 0.),
            forwarded=forwarded)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(alpha={self.alpha}, '
                f'num_mixups={self.num_mixups}, mode={self.loss.mode})')
