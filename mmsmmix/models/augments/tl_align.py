"""TL-Align batch augment: token CutMix whose labels follow the attention."""
from typing import Optional

import torch
from mmpretrain.registry import BATCH_AUGMENTS

from mmsmmix.models.probes import AttentionRecord
from mmsmmix.ops import (head_mean, mix_targets, propagate_token_weights,
                         smooth_labels, token_box, token_box_mask,
                         token_grid_side)
from mmsmmix.utils import check_finite_positive
from .base import (MixAugment, MixContext, MixResult, Relabel, flip_partner,
                   pixel_share)


@BATCH_AUGMENTS.register_module()
class TLAlign(MixAugment):
    """TL-Align (Xiao et al., "Token-Label Alignment for Vision
    Transformers", ICCV 2023), as in the official code (Euphoria16/TL-Align,
    ``tla.py`` and its patched ``vision_transformer.py``).

    Mixing, once per batch: ``lam ~ Beta(alpha, alpha)`` (re-drawn while it
    is exactly 1, as the official ``while lam == 1.``), a CutMix box on the
    *token grid* (:func:`mmsmmix.ops.token_box`), the box's patches pasted
    from the partner (the batch reversed), ``lam`` corrected to ``1 - box
    tokens / N``. Labels smoothed by ``label_smoothing`` (``y~``) seed every
    token: the class token ``lam * y~_a + (1 - lam) * y~_b``, a patch token
    the label of the image its pixels came from. After the forward of the
    mixed batch (no extra forward), the labels are propagated through every
    block as ``y <- (A y + y) / 2`` with ``A`` that block's detached,
    head-mean, post-softmax attention (drop path ignored, MLP identity);
    the target is the class token's label after the last block. It is
    carried as one weight per token (:func:`propagate_token_weights`),
    exactly the official (B, 1+N, K) labels.

    Needs a class token among the tokens of every self-attention block, and
    only it (ViT/DeiT): refused when the model is built on backbones without
    one (Swin, PVT-v2), on CaiT (its class token joins only the
    class-attention blocks) and with a distillation token (the official code
    cannot run it). The head must not smooth again (``label_smoothing``).

    Args:
        tokenmix_alpha (float): Beta parameter of the box. Defaults to 1.0.
        mixup_alpha (float): Must be 0 (the official Mixup branch crashes,
            so TL-Align is token CutMix only). Defaults to 0.
        label_smoothing (float): Smoothing of both labels (official 0.1).
        seed (int, optional): Seed of the draws; None takes the Runner's.
    """

    uses_model = True
    attn_stat = 'cls'  # its layout is checked as for every attention reader
    #: Draws of ``lam`` before giving up on ``lam != 1`` (never reached
    #: for a finite alpha > 0: Beta(a, a) is 1 at most half the time).
    MAX_DRAWS = 100

    def __init__(self,
                 tokenmix_alpha: float = 1.0,
                 mixup_alpha: float = 0.,
                 label_smoothing: float = 0.1,
                 seed: Optional[int] = None):
        super().__init__(seed)
        check_finite_positive('TLAlign', 'tokenmix_alpha', tokenmix_alpha)
        if mixup_alpha != 0:
            raise ValueError(
                f'TLAlign mixup_alpha must be 0, got {mixup_alpha}: the '
                "official code's Mixup branch crashes (token_label() with "
                'mask=None raises TypeError), so TL-Align is token CutMix '
                "only; to train Mixup batches too, put MMPretrain's Mixup "
                'beside TLAlign in model.train_cfg.augments with probs')
        if not 0 <= label_smoothing < 1:
            raise ValueError('TLAlign label_smoothing must be in [0, 1), '
                             f'got {label_smoothing}')
        self.tokenmix_alpha = tokenmix_alpha
        self.mixup_alpha = mixup_alpha
        self.label_smoothing = label_smoothing

    def plain_call_loss(self) -> str:
        """The plain call has no forward to propagate the labels through."""
        return ('its label propagation through the attention of every block '
                'of the training forward (the batch would train on token '
                "CutMix's area labels)")

    def check_layout(self, layout: AttentionRecord, image_hw) -> None:
        """Refuse a backbone whose self-attention blocks do not carry the
        class token and only it before the patches, or a non-square grid."""
        extra = layout.num_extra_tokens
        if extra == 0 and layout.class_token:
            raise ValueError(
                'TLAlign propagates labels through self-attention blocks '
                'that carry the class token; this backbone has a class token '
                'but its self-attention blocks do not (CaiT: the class token '
                "joins only the class-attention blocks), so attn_stat='cls' "
                'cannot be propagated')
        if extra != 1:
            raise ValueError(
                f'TLAlign needs exactly one extra token (the class token) '
                f'before the patches, got {extra} (a distillation token: '
                'the official code does not support distilled DeiT)')
        token_grid_side(layout.grid, layout.patch_size, image_hw, 'TLAlign')

    def draw_lam(self) -> float:
        """``lam ~ Beta(alpha, alpha)``, re-drawn while exactly 1 (the
        official loop, which cannot hang here)."""
        for _ in range(self.MAX_DRAWS):
            lam = self.random.beta(self.tokenmix_alpha)
            if lam != 1.:
                return lam
        raise RuntimeError(
            f'TLAlign drew lam = 1 (nothing to mix) {self.MAX_DRAWS} times '
            f'from Beta({self.tokenmix_alpha}, {self.tokenmix_alpha})')

    def mix(self,
            inputs: torch.Tensor,
            targets: torch.Tensor,
            context: Optional[MixContext] = None) -> MixResult:
        """Paste a token box of each image's partner.

        Args:
            inputs (Tensor): (B, C, H, W) images.
            targets (Tensor): (B, K) one-hot or soft labels.
            context (MixContext): Gives the backbone's patch size.

        Returns:
            MixResult: Mixed images, the class token's seed
            ``lam * y~ + (1 - lam) * y~_partner`` as targets (replaced by
            the propagated label after the forward); ``info``: ``box``
            ``(top, bottom, left, right)`` in tokens and the corrected
            ``lam``; ``partner``: the batch reversed; ``partner_share``: 1
            on the box's patches.
        """
        context = self.require_context(context)
        h, w = inputs.shape[-2:]
        ph, pw = context.token_layout().patch_size
        side = token_grid_side((h // ph, w // pw), (ph, pw), (h, w),
                               'TLAlign')
        box = token_box(side, self.draw_lam(), self.random.rng)
        top, bottom, left, right = box
        rows, cols = slice(top * ph, bottom * ph), slice(left * pw, right * pw)
        mixed = inputs.clone()
        mixed[..., rows, cols] = inputs.flip(0)[..., rows, cols]
        lam = 1. - (bottom - top) * (right - left) / float(side * side)

        own = smooth_labels(targets.float(), self.label_smoothing)
        partner = own.flip(0)
        pasted = token_box_mask(box, side, inputs.device)
        seed = torch.cat([
            torch.full((len(inputs), 1), lam, device=inputs.device),
            (~pasted).float().expand(len(inputs), -1)
        ], dim=1)

        def relabel(record: AttentionRecord,
                    logits: torch.Tensor) -> torch.Tensor:
            weights = self.propagate(seed, record)
            return mix_targets(own, weights[:, :1].to(own), partner)

        in_box = torch.zeros(h, w, dtype=torch.bool, device=inputs.device)
        in_box[rows, cols] = True
        return MixResult(
            mixed, mix_targets(own, lam, partner),
            relabel=Relabel('cls', relabel, blocks='all', reduce=head_mean),
            info=dict(box=box, lam=lam),
            partner=flip_partner(inputs),
            partner_share=pixel_share(inputs, in_box))

    @staticmethod
    def propagate(seed: torch.Tensor,
                  record: AttentionRecord) -> torch.Tensor:
        """(B, 1+N) own-label weights after every block of ``record``
        (``capture(blocks='all', reduce=head_mean)``), without autograd."""
        if not record.blocks:
            raise RuntimeError('TLAlign: the training forward recorded no '
                               'attention block to propagate labels through')
        attns = [block.attn for block in record.blocks]
        for attn in attns:
            if attn.dim() != 3 or attn.shape[1:] != (seed.shape[1], ) * 2:
                raise RuntimeError(
                    'TLAlign needs each block\'s (B, 1+N, 1+N) head-mean '
                    f'attention with 1+N = {seed.shape[1]} tokens, got '
                    f'{tuple(attn.shape)}')
        with torch.no_grad():
            return propagate_token_weights(seed.float(), attns)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(tokenmix_alpha='
                f'{self.tokenmix_alpha}, label_smoothing='
                f'{self.label_smoothing})')
