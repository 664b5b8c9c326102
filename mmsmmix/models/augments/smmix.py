"""SMMix batch augment: self-motivated max-min region mixing, or Mixup."""
import warnings
from dataclasses import dataclass
from typing import List, Optional

import torch
from mmpretrain.registry import BATCH_AUGMENTS

from mmsmmix.models.probes import AttentionRecord
from mmsmmix.ops import (ATTN_STATS, RegionMix, check_side_ratios,
                         max_min_region_mix, mix_targets, mixup, region_sizes,
                         smooth_labels, token_grid_side, token_to_pixel_mask)
from mmsmmix.utils import check_finite_positive
from .base import (MixAugment, MixContext, MixResult, check_motivating_dtype,
                   flip_partner, motivating_torch_dtype, pixel_share)


@dataclass
class WindowScores:
    """What SMMix's windows are chosen from, for one clean pass.

    Attributes:
        side (int): S, the side of the square token grid.
        sizes (list[int]): The window sides r training draws from.
        scores (Tensor): (B, S*S) patch scores of ``attn_stat``.
    """
    side: int
    sizes: List[int]
    scores: torch.Tensor


@BATCH_AUGMENTS.register_module()
class SMMix(MixAugment):
    """SMMix (Chen et al., ICCV 2023), as in the official code.

    Each batch, with probability ``switch_prob`` the SMMix branch runs: an
    eval-mode, no-grad forward of the unmixed batch gives the class logits
    ``z`` and the last block's attention; every image then receives, on its
    least-attended r x r window of the token grid, the most-attended r x r
    window of its partner (the batch reversed). ``r`` is drawn uniformly from
    ``int(S*min_side_ratio) .. int(S*max_side_ratio)`` and
    ``lam = 1 - r²/S²`` is the target's area share. Otherwise the batch
    gets Mixup with ``lam ~ Beta(mixup_alpha, mixup_alpha)`` and the same
    pairing. Branch, region side and Beta draws are identical on every
    rank. SMMix batches hand ``mix_info`` to ``SMMixClsHead.loss`` (the
    regions, the pure labels, the unmixed logits).

    Args:
        switch_prob (float): Probability of the SMMix branch. Defaults to 0.5.
        mixup_alpha (float): Beta parameter of the Mixup branch. Defaults to
            0.8.
        label_smoothing (float): Smoothing of each pure label before mixing.
            Defaults to 0.1.
        min_side_ratio (float): Smallest region side as a share of S.
            Defaults to 0.25.
        max_side_ratio (float): Largest region side as a share of S.
            Defaults to 0.75.
        attn_stat (str): Patch importance: ``'patch'`` (official:
            patch-to-patch column mean) or ``'cls'`` (CLS-to-patch). Defaults
            to 'patch'.
        motivating_dtype (str): Precision of the motivating pass:
            ``'float32'`` (official: outside any autocast), or
            ``'bfloat16'`` / ``'float16'`` (autocast on the inputs' device;
            the attention map and the scores stay float32), or ``'auto'``
            (bfloat16 where the device computes it natively, float32
            elsewhere). A faster pass where the hardware has the low
            precision (a slower one elsewhere: a low precision the device
            emulates is warned about when built), whose windows can differ
            where attention scores tie closely (docs/benchmarks.md:
            agreement with float32). Defaults to 'float32'.
        seed (int, optional): Seed of the branch/region draws; None takes the
            Runner's seed.
        score (str, optional): Former name of ``attn_stat`` (deprecated).
    """

    uses_model = True

    def __init__(self,
                 switch_prob: float = 0.5,
                 mixup_alpha: float = 0.8,
                 label_smoothing: float = 0.1,
                 min_side_ratio: float = 0.25,
                 max_side_ratio: float = 0.75,
                 attn_stat: str = 'patch',
                 motivating_dtype: str = 'float32',
                 seed: Optional[int] = None,
                 score: Optional[str] = None):
        super().__init__(seed)
        if score is not None:
            warnings.warn(
                "SMMix(score=...) is deprecated: use attn_stat='patch' or "
                "'cls'", DeprecationWarning)
            attn_stat = score
        if not 0 <= switch_prob <= 1:
            raise ValueError(
                f'SMMix switch_prob must be in [0, 1], got {switch_prob}')
        check_finite_positive('SMMix', 'mixup_alpha', mixup_alpha)
        if not 0 <= label_smoothing < 1:
            raise ValueError('SMMix label_smoothing must be in [0, 1), got '
                             f'{label_smoothing}')
        if attn_stat not in ATTN_STATS:
            raise ValueError(f'SMMix attn_stat must be one of {ATTN_STATS}, '
                             f'got {attn_stat!r}')
        check_side_ratios(min_side_ratio, max_side_ratio)
        self.motivating_dtype = check_motivating_dtype(
            'SMMix', motivating_dtype)
        self.switch_prob = switch_prob
        self.mixup_alpha = mixup_alpha
        self.label_smoothing = label_smoothing
        self.min_side_ratio = min_side_ratio
        self.max_side_ratio = max_side_ratio
        self.attn_stat = attn_stat

    def check_layout(self, layout, image_hw) -> None:
        """Refuse a token layout SMMix cannot mix on (see
        :func:`mmsmmix.ops.token_grid_side`)."""
        token_grid_side(layout.grid, layout.patch_size, image_hw)

    def window_scores(self, inputs: torch.Tensor,
                      record: AttentionRecord) -> WindowScores:
        """Patch scores and window sides of a clean pass's attention
        ``record`` of ``inputs`` (B, C, H, W): the first half of SMMix's
        window choice, done once per batch."""
        side = token_grid_side(record.grid, record.patch_size,
                               inputs.shape[-2:])
        scores = record.scores(self.attn_stat)
        return WindowScores(
            side, region_sizes(side, self.min_side_ratio,
                               self.max_side_ratio), scores)

    def windows(self,
                inputs: torch.Tensor,
                scores: WindowScores,
                region_size: int,
                targets: Optional[torch.Tensor] = None) -> RegionMix:
        """SMMix's window choice for side ``region_size``: every image's
        least-attended window receives its partner's most-attended one
        (:func:`mmsmmix.ops.max_min_region_mix`; ``targets`` (B, K) are
        mixed by area when given). :meth:`mix`, the benchmarks and the
        visualisers all choose windows through here."""
        if region_size not in scores.sizes:
            raise ValueError(
                f'SMMix draws window sides from {scores.sizes} on a '
                f'{scores.side}x{scores.side} token grid, got {region_size}')
        return max_min_region_mix(inputs, scores.scores, region_size,
                                  targets)

    def mix(self,
            inputs: torch.Tensor,
            targets: torch.Tensor,
            context: Optional[MixContext] = None) -> MixResult:
        """Mix a batch.

        Args:
            inputs (Tensor): (B, C, H, W) normalised images.
            targets (Tensor): (B, K) one-hot (or soft) labels.
            context (MixContext): The model's clean forward.

        Returns:
            MixResult: Smoothed, mixed targets; ``info``: ``branch``
            (``'smmix'`` or ``'mixup'``), ``lam``, and for SMMix batches
            ``region_size`` and ``region`` (the :class:`RegionMix`, with the
            windows). SMMix batches give ``head_kwargs['mix_info']``:
            ``source_mask`` (B, S*S) bool, ``lam``, ``target_score`` /
            ``source_score`` (B, K) smoothed pure labels of the two regions
            and ``clean_logits`` (B, K) of the unmixed batch. ``partner``:
            the batch reversed; ``partner_share``: ``1 - lam`` (Mixup) or
            1 on the destination window.
        """
        context = self.require_context(context)
        score = smooth_labels(targets.float(), self.label_smoothing)
        partner = score.flip(0)
        if self.random.random() >= self.switch_prob:
            lam = self.random.beta(self.mixup_alpha)
            return MixResult(
                mixup(inputs, lam), mix_targets(score, lam, partner),
                info=dict(branch='mixup', lam=lam),
                partner=flip_partner(inputs),
                partner_share=pixel_share(inputs, 1 - lam))

        logits, record = context.clean_forward(
            inputs, self.attn_stat,
            motivating_torch_dtype(self.motivating_dtype,
                                   inputs.device.type))
        window_scores = self.window_scores(inputs, record)
        side = window_scores.side
        region_size = self.random.choice(window_scores.sizes)
        region = self.windows(inputs, window_scores, region_size, score)
        mix_info = dict(
            source_mask=region.source_mask,
            lam=region.lam,
            target_score=score,
            source_score=partner,
            clean_logits=logits)
        b, _, h, w = inputs.shape
        pasted = token_to_pixel_mask(region.source_mask.reshape(
            b, 1, side, side), (h // side, w // side))
        return MixResult(
            region.mixed,
            region.targets,
            head_kwargs=dict(mix_info=mix_info),
            info=dict(branch='smmix', lam=region.lam,
                      region_size=region_size, region=region),
            partner=flip_partner(inputs),
            partner_share=pixel_share(inputs, pasted))

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(switch_prob={self.switch_prob}, '
                f'mixup_alpha={self.mixup_alpha}, '
                f'label_smoothing={self.label_smoothing}, '
                f'side_ratios=({self.min_side_ratio}, {self.max_side_ratio}),'
                f" attn_stat='{self.attn_stat}', "
                f"motivating_dtype='{self.motivating_dtype}')")
