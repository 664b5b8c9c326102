"""MixPro batch augment: MaskMix and Progressive Attention Labeling."""
import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmpretrain.registry import BATCH_AUGMENTS

from mmsmmix.models.probes import AttentionRecord
from mmsmmix.ops import (attention_share, cell_token_mask,
                         patch_attention_score, token_to_pixel_mask)
from mmsmmix.utils import SyncedRandom, check_finite_positive
from .smmix import token_grid_side


@BATCH_AUGMENTS.register_module()
class MixPro:
    """MixPro (Zhao et al., "MixPro: Data Augmentation with MaskMix and
    Progressive Attention Labeling for Vision Transformer", ICLR 2023).

    **MaskMix**: with ``r ~ Beta(alpha, alpha)``, ``ceil(cells * r)`` random
    cells of ``cell_tokens`` x ``cell_tokens`` tokens keep the image and the
    other cells come from its partner (the batch reversed), so every token
    comes from exactly one image; ``lam_area`` is the kept share of tokens.

    **Progressive Attention Labeling** (``pal=True``), after the forward of
    the mixed batch (no extra forward, as the official code): per image
    ``lam = sim * lam_attn + (1 - sim) * lam_area``, where ``lam_attn`` is
    the class-to-patch attention share on the kept tokens and ``sim`` the
    cosine between the area-mixed label and the softmax of that forward's
    logits, which grows as the model learns. Unlike the official code (and
    like OpenMixup's port) ``sim`` carries no gradient: a gradient through
    the label weight would let the model lower its loss by moving its label
    instead of its prediction. The official DeiT configs turn PAL off
    (MaskMix only); ``pal=False`` does the same.

    Args:
        alpha (float): Beta parameter of the kept share. Defaults to 1.0.
        cell_tokens (int): Cell side in tokens (the official DeiT configs:
            56-px cells with 14-px patches, i.e. 4). Defaults to 4.
        pal (bool): Relabel with attention. Defaults to True.
        seed (int, optional): Seed of the draws; None takes the Runner's.
    """

    requires_model = True
    requires_attention = True
    score = 'cls'

    def __init__(self,
                 alpha: float = 1.0,
                 cell_tokens: int = 4,
                 pal: bool = True,
                 seed: Optional[int] = None):
        check_finite_positive('MixPro', 'alpha', alpha)
        if int(cell_tokens) != cell_tokens or cell_tokens < 1:
            raise ValueError(
                f'MixPro cell_tokens must be an integer >= 1, got '
                f'{cell_tokens}')
        self.alpha = alpha
        self.cell_tokens = int(cell_tokens)
        self.requires_mixed_attention = bool(pal)
        self.random = SyncedRandom(seed, stream='MixPro')
        self._batch = None  # (token mask, lam_area, pure labels)

    def check_layout(self, record: AttentionRecord, image_hw) -> None:
        """Refuse a non-square grid or images that are not whole patches."""
        token_grid_side(record, image_hw)

    def __call__(self, inputs: torch.Tensor, batch_score: torch.Tensor,
                 model) -> Tuple[torch.Tensor, torch.Tensor, None]:
        """MaskMix a batch.

        Args:
            inputs (Tensor): (B, C, H, W) images.
            batch_score (Tensor): (B, K) one-hot or soft labels.
            model (MixImageClassifier): Gives the backbone's patch size.

        Returns:
            tuple: Mixed images, area-mixed labels (replaced by
            :meth:`relabel` when PAL is on) and None (no head extras).
        """
        record = model.token_layout()
        h, w = inputs.shape[-2:]
        record.grid = (h // record.patch_size[0], w // record.patch_size[1])
        side = token_grid_side(record, (h, w))
        share = self.random.beta(self.alpha)
        tokens = cell_token_mask(side, self.cell_tokens, share,
                                 self.random.rng).to(inputs.device)
        pixels = token_to_pixel_mask(tokens, record.patch_size)
        mixed = torch.where(pixels, inputs, inputs.flip(0))
        lam = tokens.float().mean().item()
        score = batch_score.float()
        self._batch = (tokens.flatten(), lam, score)
        return mixed, lam * score + (1 - lam) * score.flip(0), None

    def relabel(self, score: torch.Tensor, record: AttentionRecord,
                logits: torch.Tensor) -> torch.Tensor:
        """Progressive Attention Labeling from the mixed forward.

        Args:
            score (Tensor): (B, K) area-mixed labels.
            record (AttentionRecord): The probe's record of the mixed
                forward.
            logits (Tensor): (B, K) class logits of the mixed forward.

        Returns:
            Tensor: (B, K) ``lam_i * y_i + (1 - lam_i) * y_partner``.
        """
        tokens, lam_area, pure = self._batch
        scores = patch_attention_score(record.attn, self.score,
                                       record.num_extra_tokens)
        lam_attn = attention_share(scores, tokens)
        sim = F.cosine_similarity(
            score.float(), logits.detach().float().softmax(dim=1), dim=1)
        lam = (sim * lam_attn + (1 - sim) * lam_area).unsqueeze(1).to(pure)
        return lam * pure + (1 - lam) * pure.flip(0)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(alpha={self.alpha}, '
                f'cell_tokens={self.cell_tokens}, '
                f'pal={self.requires_mixed_attention})')
