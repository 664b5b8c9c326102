"""RankMixup batch augment: clean and mixed forwards, ranked."""
from typing import Dict, Optional, Tuple

import torch
from mmpretrain.registry import BATCH_AUGMENTS, MODELS

from mmsmmix.utils import SyncedRandom, check_finite_positive


@BATCH_AUGMENTS.register_module()
class RankMixup:
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

    Protocol: ``requires_model``; ``__call__`` returns the clean batch and,
    in ``mix_info``, the mixed logits and relevances, which the classifier
    hands back to :meth:`loss_terms` with the clean logits.

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

    requires_model = True

    def __init__(self,
                 alpha: float = 2.0,
                 num_mixups: int = 1,
                 loss: dict = dict(
                     type='RankMixupLoss',
                     mode='mrl',
                     margin=2.0,
                     loss_weight=0.1),
                 seed: Optional[int] = None):
        check_finite_positive('RankMixup', 'alpha', alpha)
        if int(num_mixups) != num_mixups or num_mixups < 1:
            raise ValueError('RankMixup num_mixups must be an integer >= 1, '
                             f'got {num_mixups}')
        self.alpha = alpha
        self.num_mixups = int(num_mixups)
        self.loss = MODELS.build(loss)
        self.random = SyncedRandom(seed, stream='RankMixup')

    def mix(self, inputs: torch.Tensor,
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

    def __call__(self, inputs: torch.Tensor, batch_score: torch.Tensor,
                 model) -> Tuple[torch.Tensor, torch.Tensor, dict]:
        """Forward the mixed batches; leave the batch itself clean.

        Args:
            inputs (Tensor): (B, C, H, W) images.
            batch_score (Tensor): (B, K) labels.
            model (MixImageClassifier): The model, in training mode.

        Returns:
            tuple: The clean images and labels, and ``mix_info`` with
            ``mixed_logits`` (k, B, K) (with gradient) and ``relevance``
            (k, B).
        """
        mixed, relevance = self.mix(inputs, batch_score)
        logits = model.head(model.extract_feat(mixed))
        mixed_logits = logits.reshape(self.num_mixups, inputs.shape[0], -1)
        return inputs, batch_score, dict(
            mixed_logits=mixed_logits, relevance=relevance)

    def loss_terms(self, logits: torch.Tensor,
                   mix_info: dict) -> Dict[str, torch.Tensor]:
        """The ranking loss of this step.

        Args:
            logits (Tensor): (B, K) clean logits (with gradient).
            mix_info (dict): What :meth:`__call__` returned.

        Returns:
            dict[str, Tensor]: ``loss_rank``.
        """
        return dict(loss_rank=self.loss(logits, mix_info['mixed_logits'],
                                        mix_info['relevance']))

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(alpha={self.alpha}, '
                f'num_mixups={self.num_mixups}, mode={self.loss.mode})')
