"""TransMix batch augment: CutMix relabelled by the transformer's attention."""
from typing import Optional, Tuple

import torch
from mmpretrain.registry import BATCH_AUGMENTS

from mmsmmix.models.probes import AttentionRecord
from mmsmmix.ops import attention_share, box_token_mask, cutmix_box
from mmsmmix.utils import check_finite_positive
from .base import (MixAugment, MixContext, MixResult, Relabel, flip_partner,
                   pixel_share)


@BATCH_AUGMENTS.register_module()
class TransMix(MixAugment):
    """TransMix (Chen et al., "TransMix: Attend to Mix for Vision
    Transformers", CVPR 2022), as in the official code.

    The images are mixed as by CutMix: ``lam ~ Beta(alpha, alpha)``, a box
    with sides ``sqrt(1 - lam)`` of the image's at a uniform centre (timm's
    draw), pasted from the partner (the batch reversed). After the forward of
    the *mixed* batch, with no extra forward, each image is relabelled with
    the share of the pasted image::

        pasted = (box area / image area + attention mass in the box) / 2

    where the attention is the last block's class-to-patch attention of that
    forward, averaged over heads and detached, and the box is resized to the
    token grid by nearest neighbour. ``pasted`` differs per image, and so
    does each label: ``(1 - pasted) * y + pasted * y_partner``. Draws are
    identical on every rank.

    On a backbone without a class token (Swin, PVT-v2) the official
    statistic does not exist and ``attn_stat='cls'`` is refused when the
    model is built; ``attn_stat='pooled'`` (ours, not in the official code)
    reads the attention each token receives averaged over all queries and
    heads, the weights of the globally pooled feature the head classifies.

    Args:
        alpha (float): Beta parameter of the box size. Defaults to 1.0.
        attn_stat (str): ``'cls'`` (official: class-to-patch) or
            ``'pooled'`` (ours, for backbones without a class token).
            Defaults to 'cls'.
        seed (int, optional): Seed of the draws; None takes the Runner's.
    """

    def __init__(self,
                 alpha: float = 1.0,
                 attn_stat: str = 'cls',
                 seed: Optional[int] = None):
        super().__init__(seed)
        check_finite_positive('TransMix', 'alpha', alpha)
        if attn_stat not in ('cls', 'pooled'):
            raise ValueError("TransMix attn_stat must be 'cls' (official) or "
                             f"'pooled' (ours), got {attn_stat!r}")
        self.alpha = alpha
        self.attn_stat = attn_stat

    def plain_call_loss(self) -> str:
        """The plain call would train CutMix: no forward to relabel from."""
        return ('its relabelling from the attention of the training forward '
                "(the batch would train on CutMix's area labels)")

    def mix(self,
            inputs: torch.Tensor,
            targets: torch.Tensor,
            context: Optional[MixContext] = None) -> MixResult:
        """Paste a box of each image's partner.

        Args:
            inputs (Tensor): (B, C, H, W) images.
            targets (Tensor): (B, K) one-hot or soft labels.
            context: Unused (the relabelling reads the training forward).

        Returns:
            MixResult: Mixed images, the area-mixed targets (replaced by the
            relabelling after the forward); ``info``: ``box`` ``(top,
            bottom, left, right)`` in pixels and ``pasted_area``;
            ``partner``: the batch reversed; ``partner_share``: 1 in the
            box.
        """
        h, w = inputs.shape[-2:]
        box = cutmix_box(h, w, self.random.beta(self.alpha), self.random.rng)
        top, bottom, left, right = box
        mixed = inputs.clone()
        mixed[..., top:bottom, left:right] = \
            inputs.flip(0)[..., top:bottom, left:right]
        pure = targets.float()
        area = (bottom - top) * (right - left) / (h * w)

        def relabel(record: AttentionRecord,
                    logits: torch.Tensor) -> torch.Tensor:
            pasted = self.pasted_share(record, box, (h, w), area)
            pasted = pasted.unsqueeze(1).to(pure)
            return (1 - pasted) * pure + pasted * pure.flip(0)

        in_box = torch.zeros(h, w, dtype=torch.bool, device=inputs.device)
        in_box[top:bottom, left:right] = True
        return MixResult(
            mixed, (1 - area) * pure + area * pure.flip(0),
            relabel=Relabel(self.attn_stat, relabel),
            info=dict(box=box, pasted_area=area),
            partner=flip_partner(inputs),
            partner_share=pixel_share(inputs, in_box))

    def pasted_share(self, record: AttentionRecord,
                     box: Tuple[int, int, int, int],
                     image_hw: Tuple[int, int], area: float) -> torch.Tensor:
        """(B,) share of each mixed image's label that goes to its partner:
        the mean of the box's area share and attention share."""
        scores = record.scores(self.attn_stat)
        tokens = box_token_mask(box, image_hw, record.grid)
        return (area + attention_share(scores, tokens)) / 2

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(alpha={self.alpha}, '
                f"attn_stat='{self.attn_stat}')")
