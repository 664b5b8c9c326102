"""MixPro batch augment: MaskMix and Progressive Attention Labeling, in the
official training loop (MaskMix, else timm's Mixup/CutMix)."""
import copy
from dataclasses import dataclass
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmpretrain.registry import BATCH_AUGMENTS

from mmsmmix.models.probes import AttentionRecord
from mmsmmix.ops import (attention_share, cell_counts, cell_token_masks,
                         check_partner_mode, cutmix, cutmix_box, mix_targets,
                         mixup, partner_index, smooth_labels, token_grid_side,
                         token_to_pixel_mask)
from mmsmmix.utils import check_finite_positive
from .base import (MixAugment, MixContext, MixResult, Relabel, flip_partner,
                   pixel_share)

AREA_LAM_MODES = ('cells', 'tokens')
MASK_MODES = ('per_sample', 'batch')
ZERO_MODES = ('always', 'never')


@dataclass
class MaskMixBatch:
    """One MaskMix batch, what :meth:`MixPro.relabel` reads.

    Attributes:
        tokens (Tensor): (B, N) float, 1 on the tokens (with
            ``cell_pixels``: the cells) kept from the image.
        lam_area (Tensor): (B,) the image's area share of the label.
        pure (Tensor): (B, K) unsmoothed labels of the images.
        partner (Tensor): (B,) index of each image's partner.
        target (Tensor): (B, K) the area-mixed (smoothed) label.
        kept (Tensor, optional): (B, 1, H, W) bool, True on the pixels kept
            from the image (given with ``cell_pixels``, whose cells need not
            align with the tokens).
    """
    tokens: torch.Tensor
    lam_area: torch.Tensor
    pure: torch.Tensor
    partner: torch.Tensor
    target: torch.Tensor
    kept: Optional[torch.Tensor] = None

    def kept_share(self, grid) -> torch.Tensor:
        """(B, h*w) share of each token's cell kept from the image on a
        token ``grid`` (h, w): ``tokens`` where the cells are whole tokens,
        else the mean of ``kept`` over each token's cell."""
        if self.kept is None:
            return self.tokens
        return F.adaptive_avg_pool2d(self.kept.float(),
                                     tuple(grid)).flatten(1)


@BATCH_AUGMENTS.register_module()
class MixPro(MixAugment):
    """MixPro (Zhao et al., "MixPro: Data Augmentation with MaskMix and
    Progressive Attention Labeling for Vision Transformer", ICLR 2023), as
    the official training loop runs it.

    Each batch, with probability ``maskmix_prob`` **MaskMix**: with
    ``r ~ Beta(alpha, alpha)``, ``ceil(G² r)`` of the ``G x G`` cells of
    ``cell_tokens`` x ``cell_tokens`` tokens keep the image and the other
    cells come from its partner, so every token comes from one image; the
    label is ``lam_area * y + (1 - lam_area) * y_partner``. Otherwise timm's
    batch Mixup (``mixup_alpha``) or, with probability ``cutmix_prob``,
    CutMix (``cutmix_alpha``), each with the batch reversed, as the official
    ``mixup_fn``. Every label is smoothed by ``label_smoothing`` (so the head
    must be a soft cross-entropy without smoothing), except PAL's.

    **Progressive Attention Labeling** (``pal=True``), after the forward of
    the mixed batch (no extra forward): per MaskMix image
    ``lam = sim * lam_attn + (1 - sim) * lam_area``, where ``lam_attn`` is
    the class-to-patch attention share on the kept tokens and ``sim`` the
    cosine between the smoothed area-mixed label and the softmax of that
    forward's logits, which grows as the model learns; the label is then the
    hard ``lam * y + (1 - lam) * y_partner`` (the official PAL loss has no
    smoothing).

    Defaults are the official code's. The switches that differ from it:

    - ``masks='batch'``: one cell permutation for the whole batch (official:
      one per image, ``'per_sample'``).
    - ``partner='flip'``: MaskMix pairs with the batch reversed (official: a
      ``randperm`` partner, ``'randperm'``).
    - ``area_lam='tokens'``: ``lam_area`` is each image's kept share of
      *tokens* (official: kept cells / all cells, ``'cells'``). The two
      differ only when ``cell_tokens`` does not divide the grid: the last
      row and column of cells are then cropped, and a cropped cell counts
      as a whole one in ``'cells'``.
    - ``detach_sim=True``: ``sim`` carries no gradient, as in OpenMixup's
      port (official: it does, so the loss can also fall by moving the label
      weight toward the prediction).
    - ``maskmix_zero='never'``: ``maskmix_prob=0`` turns MaskMix off
      (timm's Mixup/CutMix alone). Official (``'always'``): the loop's
      MaskMix flag starts on (``MASKMIX_ALPHA > 0``) and its coin only
      resets it when ``MASKMIX_PROB > 0``, so ``MASKMIX_PROB=0`` runs
      MaskMix on every batch, like 1 (``main.py`` ``train_one_epoch``).
    - ``maskmix_prob=1`` and ``label_smoothing=0`` make MixPro MaskMix alone
      with unsmoothed labels, to combine with other augments in
      ``MixImageClassifier`` under a smoothing head (PAL labels are then
      smoothed too, and ``sim`` compares with the unsmoothed label).

    The official DeiT configs turn PAL off; ``pal=False`` does the same.

    **Swin** (official ``swin_*_mask56`` configs): ``cell_pixels=56`` (the
    official ``MASK_PATCH_SIZE``) and ``pal=False``: 56-px cells on the
    image whatever the backbone's tokens, area labels, no attention read,
    so no probe is needed. PAL on a backbone without a class token
    (``attn_stat='pooled'``, ours: the official Swin model cannot return
    attention) reads each token's kept share of its cell.
    With fewer than two cells a side every draw keeps all or nothing, so the
    model is refused when it is built; with few cells, ``ceil(G² r) = G²``
    for ``r > 1 - 1/G²`` leaves such batches unmixed, as in the official
    code.

    Args:
        alpha (float): Beta parameter of the kept share. Defaults to 1.0.
        cell_tokens (int): Cell side in tokens (official DeiT: 56-px cells on
            14-px patches, i.e. 4). Defaults to 4.
        cell_pixels (int, optional): Cell side in pixels instead, whatever
            the backbone's token stride (official Swin: 56); the image
            sides must be multiples of it. Defaults to None (cells of
            ``cell_tokens``).
        pal (bool): Relabel MaskMix batches with attention. Defaults to True.
        attn_stat (str): The statistic PAL reads: ``'cls'`` (official) or
            ``'pooled'`` (ours, backbones without a class token). Defaults
            to 'cls'.
        maskmix_prob (float): Probability of MaskMix per batch (official
            ``MASKMIX_PROB``); 0 means every batch, as 1, unless
            ``maskmix_zero='never'``. Defaults to 0.5.
        mixup_alpha (float): Beta parameter of the Mixup branch. Defaults to
            0.8.
        cutmix_alpha (float): Beta parameter of the CutMix branch. Defaults
            to 1.0.
        cutmix_prob (float): Probability of CutMix rather than Mixup when
            MaskMix is not drawn (timm's ``switch_prob``). Defaults to 0.5.
        label_smoothing (float): Smoothing of the non-PAL labels. Defaults
            to 0.1.
        masks (str): ``'per_sample'`` or ``'batch'``. Defaults to
            'per_sample'.
        partner (str): ``'randperm'`` or ``'flip'``. Defaults to 'randperm'.
        area_lam (str): ``'cells'`` or ``'tokens'``. Defaults to 'cells'.
        detach_sim (bool): Stop the gradient through ``sim``. Defaults to
            False.
        maskmix_zero (str): What ``maskmix_prob=0`` does: ``'always'``
            (MaskMix every batch, official) or ``'never'`` (no MaskMix).
            Defaults to 'always'.
        seed (int, optional): Seed of the draws; None takes the Runner's.
    """

    def __init__(self,
                 alpha: float = 1.0,
                 cell_tokens: int = 4,
                 pal: bool = True,
                 maskmix_prob: float = 0.5,
                 mixup_alpha: float = 0.8,
                 cutmix_alpha: float = 1.0,
                 cutmix_prob: float = 0.5,
                 label_smoothing: float = 0.1,
                 masks: str = 'per_sample',
                 partner: str = 'randperm',
                 area_lam: str = 'cells',
                 detach_sim: bool = False,
                 maskmix_zero: str = 'always',
                 cell_pixels: Optional[int] = None,
                 attn_stat: str = 'cls',
                 seed: Optional[int] = None):
        super().__init__(seed)
        check_finite_positive('MixPro', 'alpha', alpha)
        check_finite_positive('MixPro', 'mixup_alpha', mixup_alpha)
        check_finite_positive('MixPro', 'cutmix_alpha', cutmix_alpha)
        if int(cell_tokens) != cell_tokens or cell_tokens < 1:
            raise ValueError(
                f'MixPro cell_tokens must be an integer >= 1, got '
                f'{cell_tokens}')
        for name, value in (('maskmix_prob', maskmix_prob),
                            ('cutmix_prob', cutmix_prob)):
            if not 0 <= value <= 1:
                raise ValueError(
                    f'MixPro {name} must be in [0, 1], got {value}')
        if not 0 <= label_smoothing < 1:
            raise ValueError('MixPro label_smoothing must be in [0, 1), got '
                             f'{label_smoothing}')
        for name, value, modes in (('masks', masks, MASK_MODES),
                                   ('area_lam', area_lam, AREA_LAM_MODES),
                                   ('maskmix_zero', maskmix_zero,
                                    ZERO_MODES)):
            if value not in modes:
                raise ValueError(
                    f'MixPro {name} must be one of {modes}, got {value!r}')
        check_partner_mode('MixPro', partner)
        if cell_pixels is not None and (int(cell_pixels) != cell_pixels
                                        or cell_pixels < 1):
            raise ValueError('MixPro cell_pixels must be None or an integer '
                             f'>= 1, got {cell_pixels}')
        if attn_stat not in ('cls', 'pooled'):
            raise ValueError("MixPro attn_stat must be 'cls' (official) or "
                             f"'pooled' (ours), got {attn_stat!r}")
        self.cell_pixels = None if cell_pixels is None else int(cell_pixels)
        #: The statistic PAL reads (None without PAL: no attention read).
        self.attn_stat = attn_stat if pal else None
        #: Cells of tokens need the backbone's layout; pixel cells do not.
        self.uses_layout = self.cell_pixels is None
        self.uses_model = bool(pal) or self.uses_layout
        self.alpha = alpha
        self.cell_tokens = int(cell_tokens)
        self.pal = bool(pal)
        self.maskmix_prob = maskmix_prob
        self.mixup_alpha = mixup_alpha
        self.cutmix_alpha = cutmix_alpha
        self.cutmix_prob = cutmix_prob
        self.label_smoothing = label_smoothing
        self.masks = masks
        self.partner = partner
        self.area_lam = area_lam
        self.detach_sim = bool(detach_sim)
        self.maskmix_zero = maskmix_zero

    def check_layout(self, layout: AttentionRecord, image_hw) -> None:
        """Refuse a non-square grid, images that are not whole patches, or
        cells so large that the grid holds fewer than two a side."""
        side = token_grid_side(layout.grid, layout.patch_size, image_hw,
                               'MixPro')
        if self.cell_tokens >= side:
            ph, pw = layout.patch_size
            raise ValueError(
                f'MixPro cell_tokens={self.cell_tokens} covers the whole '
                f'{side}x{side} token grid ({ph}x{pw}-px patches), so every '
                'MaskMix draw would keep all or nothing of an image; use '
                f'cell_tokens <= {max(side // 2, 1)} (cells are cropped to '
                'the grid when they do not divide it)')

    def mix(self,
            inputs: torch.Tensor,
            targets: torch.Tensor,
            context: Optional[MixContext] = None) -> MixResult:
        """Mix a batch: MaskMix, or Mixup/CutMix.

        Args:
            inputs (Tensor): (B, C, H, W) images.
            targets (Tensor): (B, K) one-hot or soft labels.
            context (MixContext): Gives the backbone's patch size.

        Returns:
            MixResult: Smoothed mixed targets, relabelled by PAL after the
            forward in MaskMix batches when ``pal``; ``info``: ``branch``
            (``'maskmix'``, ``'mixup'`` or ``'cutmix'``), ``lam`` and, for
            MaskMix, ``batch`` (the :class:`MaskMixBatch`); ``partner``
            and ``partner_share`` (1 - lam, the CutMix box or the cells
            taken from the partner).
        """
        if self.uses_model:
            context = self.require_context(context)
        pure = targets.float()
        # No coin at 1, nor at 0 with 'always' (the official flag stays on).
        always = self.maskmix_prob >= 1 or (self.maskmix_prob == 0
                                            and self.maskmix_zero == 'always')
        if not always and self.random.random() >= self.maskmix_prob:
            if self.random.random() < self.cutmix_prob:
                branch = 'cutmix'
                lam = self.random.beta(self.cutmix_alpha)
                # the box cutmix() draws, drawn again from a copy
                top, bottom, left, right = cutmix_box(
                    *inputs.shape[-2:], lam, copy.deepcopy(self.random.rng))
                mixed, lam = cutmix(inputs, lam, self.random.rng)
                share = torch.zeros(inputs.shape[-2:], dtype=torch.bool,
                                    device=inputs.device)
                share[top:bottom, left:right] = True
            else:
                branch = 'mixup'
                lam = self.random.beta(self.mixup_alpha)
                mixed = mixup(inputs, lam)
                share = 1 - lam
            score = mix_targets(pure, lam, pure.flip(0))
            return MixResult(mixed, smooth_labels(score,
                                                  self.label_smoothing),
                             info=dict(branch=branch, lam=lam),
                             partner=flip_partner(inputs),
                             partner_share=pixel_share(inputs, share))
        if self.cell_pixels is None:
            return self._maskmix(inputs, pure,
                                 context.token_layout().patch_size,
                                 self.cell_tokens)
        h, w = inputs.shape[-2:]
        if h % self.cell_pixels or w % self.cell_pixels:
            raise ValueError(
                f'MixPro cell_pixels={self.cell_pixels} must divide the '
                f'input size, got {h}x{w}')
        return self._maskmix(inputs, pure, (self.cell_pixels, ) * 2, 1)

    def _maskmix(self, inputs: torch.Tensor, pure: torch.Tensor,
                 unit: Tuple[int, int], cell_units: int) -> MixResult:
        """MaskMix with cells of ``cell_units`` x ``cell_units`` units of
        ``unit`` pixels (a token, or a whole ``cell_pixels`` cell)."""
        h, w = inputs.shape[-2:]
        grid = (h // unit[0], w // unit[1])
        side = token_grid_side(grid, unit, (h, w), 'MixPro')
        share = self.random.beta(self.alpha)
        tokens = cell_token_masks(side, cell_units, share,
                                  self.random.rng, len(inputs),
                                  self.masks == 'per_sample').to(
                                      inputs.device)
        partner = partner_index(len(inputs), self.partner,
                                self.random.rng).to(inputs.device)
        pixels = token_to_pixel_mask(tokens, unit).unsqueeze(1)
        mixed = torch.where(pixels, inputs, inputs[partner])
        tokens = tokens.flatten(1).float()
        if self.area_lam == 'cells':
            cells, kept = cell_counts(side, cell_units, share)
            lam = torch.full((len(inputs), ), kept / cells**2,
                             device=inputs.device)
        else:
            lam = tokens.mean(dim=1)
        lam = lam.unsqueeze(1)
        target = smooth_labels(mix_targets(pure, lam, pure[partner]),
                               self.label_smoothing)
        batch = MaskMixBatch(
            tokens, lam.squeeze(1), pure, partner, target,
            kept=None if self.cell_pixels is None else pixels)
        relabel = None
        if self.pal:
            relabel = Relabel(
                self.attn_stat,
                lambda record, logits: self.relabel(batch, record, logits))
        return MixResult(mixed, target, relabel=relabel,
                         info=dict(branch='maskmix', lam=batch.lam_area,
                                   batch=batch),
                         partner=partner,
                         partner_share=pixel_share(inputs, ~pixels))

    def relabel(self, batch: MaskMixBatch, record: AttentionRecord,
                logits: torch.Tensor) -> torch.Tensor:
        """Progressive Attention Labeling from the mixed forward.

        Args:
            batch (MaskMixBatch): The MaskMix batch.
            record (AttentionRecord): The probe's record of the mixed
                forward.
            logits (Tensor): (B, K) class logits of the mixed forward (with
                gradient).

        Returns:
            Tensor: (B, K) hard ``lam_i * y_i + (1 - lam_i) * y_partner``.
        """
        scores = record.scores(self.attn_stat)
        lam_attn = attention_share(scores, batch.kept_share(record.grid))
        probs = logits.float().softmax(dim=1)
        if self.detach_sim:
            probs = probs.detach()
        sim = F.cosine_similarity(batch.target, probs, dim=1)
        lam = (sim * lam_attn + (1 - sim) * batch.lam_area).unsqueeze(1)
        return mix_targets(batch.pure, lam, batch.pure[batch.partner])

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(alpha={self.alpha}, '
                f'cell_tokens={self.cell_tokens}, '
                f'pal={self.pal}, '
                f'maskmix_prob={self.maskmix_prob}, '
                f'label_smoothing={self.label_smoothing}, '
                f"masks='{self.masks}', partner='{self.partner}', "
                f"area_lam='{self.area_lam}', detach_sim={self.detach_sim}, "
                f"maskmix_zero='{self.maskmix_zero}', "
                f'cell_pixels={self.cell_pixels}, '
                f"attn_stat='{self.attn_stat}')")
