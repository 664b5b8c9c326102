"""TransMix batch augment: CutMix relabelled by the transformer's attention."""
from typing import Optional, Tuple

import torch
from mmpretrain.registry import BATCH_AUGMENTS

from mmsmmix.models.probes import AttentionRecord
from mmsmmix.ops import (attention_share, box_token_mask, cutmix_box,
                         patch_attention_score)
from mmsmmix.utils import SyncedRandom, check_finite_positive


@BATCH_AUGMENTS.register_module()
class TransMix:
    """TransMix (Chen et al., "TransMix: Attend to Mix for Vision
    Transformers", CVPR 2022), as in the official code.

    The images are mixed as by CutMix: ``lam ~ Beta(alpha, alpha)``, a box
    with sides ``sqrt(1 - lam)`` of the image's at a uniform centre (timm's
    draw), pasted from the partner (the batch reversed). After the forward of
    the *mixed* batch, with no extra forward, each image is relabelled with
    the share of the pasted image::

        lam_pasted = (box area / image area + attention mass in the box) / 2

    where the attention is the last block's class-to-patch attention of that
    forward, averaged over heads and detached, and the box is resized to the
    token grid by nearest neighbour. ``lam_pasted`` differs per image, and so
    does each label. Draws are identical on every rank.

    Protocol: ``requires_mixed_attention`` makes ``MixImageClassifier`` run
    the mixed forward inside the attention probe and call :meth:`relabel`.

    Args:
        alpha (float): Beta parameter of the box size. Defaults to 1.0.
        seed (int, optional): Seed of the draws; None takes the Runner's.
    """

    requires_attention = True
    requires_mixed_attention = True
    score = 'cls'

    def __init__(self, alpha: float = 1.0, seed: Optional[int] = None):
        check_finite_positive('TransMix', 'alpha', alpha)
        self.alpha = alpha
        self.random = SyncedRandom(seed, stream='TransMix')
        self._batch = None  # (box, image size, box area share, labels)

    def __call__(self, inputs: torch.Tensor,
                 batch_score: torch.Tensor) -> Tuple[torch.Tensor,
                                                     torch.Tensor]:
        """Paste a box of each image's partner.

        Args:
            inputs (Tensor): (B, C, H, W) images.
            batch_score (Tensor): (B, K) one-hot or soft labels.

        Returns:
            tuple: Mixed images and the area-mixed labels (replaced by
            :meth:`relabel` after the forward).
        """
        h, w = inputs.shape[-2:]
        box = cutmix_box(h, w, self.random.beta(self.alpha), self.random.rng)
        top, bottom, left, right = box
        mixed = inputs.clone()
        mixed[..., top:bottom, left:right] = \
            inputs.flip(0)[..., top:bottom, left:right]
        score = batch_score.float()
        area = (bottom - top) * (right - left) / (h * w)
        self._batch = (box, (h, w), area, score)
        return mixed, (1 - area) * score + area * score.flip(0)

    def pasted_share(self, record: AttentionRecord) -> torch.Tensor:
        """(B,) share of each mixed image's label that goes to its partner:
        the mean of the box's area share and attention share."""
        box, image_hw, area, _ = self._batch
        scores = patch_attention_score(record.attn, self.score,
                                       record.num_extra_tokens)
        tokens = box_token_mask(box, image_hw, record.grid)
        return (area + attention_share(scores, tokens)) / 2

    def relabel(self, score: torch.Tensor, record: AttentionRecord,
                logits: torch.Tensor) -> torch.Tensor:
        """Labels from the attention of the mixed forward.

        Args:
            score (Tensor): The area-mixed labels (unused: recomputed).
            record (AttentionRecord): The probe's record of the mixed
                forward.
            logits (Tensor): Its class logits (unused by TransMix).

        Returns:
            Tensor: (B, K) ``(1 - lam_i) * y_i + lam_i * y_partner``.
        """
        pure = self._batch[3]
        lam = self.pasted_share(record).unsqueeze(1).to(pure)
        return (1 - lam) * pure + lam * pure.flip(0)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(alpha={self.alpha})'
