"""SMMix batch augment: self-motivated max-min region mixing, or Mixup."""
from typing import Optional, Tuple

import torch
from mmpretrain.registry import BATCH_AUGMENTS

from mmsmmix.ops import (check_side_ratios, max_min_region_mix, mixup,
                         patch_attention_score, region_sizes)
from mmsmmix.ops.attention import SCORE_MODES
from mmsmmix.utils import SyncedRandom, check_finite_positive


def smooth_labels(score: torch.Tensor, smoothing: float) -> torch.Tensor:
    """``(1 - eps) * score + eps / K`` for (B, K) one-hot or soft scores."""
    return score * (1 - smoothing) + smoothing / score.shape[1]


def token_grid_side(record, image_hw) -> int:
    """Side S of the square token grid that image cells must line up with.

    Args:
        record (AttentionRecord): What the probe saw (``grid``,
            ``patch_size``).
        image_hw (tuple[int, int]): Height and width of the images.

    Returns:
        int: S.

    Raises:
        ValueError: If the grid is not square or the images are not a whole
            number of patches (cells would not line up with tokens).
    """
    grid_h, grid_w = record.grid
    if grid_h != grid_w:
        raise ValueError(f'SMMix needs a square token grid, got '
                         f'{grid_h}x{grid_w} (check the input size)')
    h, w = image_hw
    patch_h, patch_w = record.patch_size
    if (h, w) != (grid_h * patch_h, grid_w * patch_w):
        raise ValueError(
            f'SMMix: input size {h}x{w} is not a whole number of the '
            f"backbone's {patch_h}x{patch_w} patches (token grid "
            f'{grid_h}x{grid_w}), so image cells would not line up with '
            'tokens; resize the images to a multiple of backbone.patch_size')
    return grid_h


@BATCH_AUGMENTS.register_module()
class SMMix:
    """SMMix (Chen et al., ICCV 2023), as in the official code.

    Each batch, with probability ``switch_prob`` the SMMix branch runs: an
    eval-mode, no-grad forward of the unmixed batch gives the class logits
    ``z`` and the last block's attention; every image then receives, on its
    least-attended r x r window of the token grid, the most-attended r x r
    window of its partner (the batch reversed). ``r`` is drawn uniformly from
    ``int(S*min_side_ratio) .. int(S*max_side_ratio)`` and ``lam = 1 - r²/S²``
    is the target's area share. Otherwise the batch gets Mixup with
    ``lam ~ Beta(mixup_alpha, mixup_alpha)`` and the same pairing. Branch,
    region side and Beta draws are identical on every rank.

    It needs the model, so it runs inside ``MixImageClassifier.loss``.

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
        score (str): Patch importance: ``'patch'`` (official: patch-to-patch
            column mean) or ``'cls'`` (CLS-to-patch). Defaults to 'patch'.
        seed (int, optional): Seed of the branch/region draws; None takes the
            Runner's seed.
    """

    requires_model = True
    requires_attention = True

    def __init__(self,
                 switch_prob: float = 0.5,
                 mixup_alpha: float = 0.8,
                 label_smoothing: float = 0.1,
                 min_side_ratio: float = 0.25,
                 max_side_ratio: float = 0.75,
                 score: str = 'patch',
                 seed: Optional[int] = None):
        if not 0 <= switch_prob <= 1:
            raise ValueError(
                f'SMMix switch_prob must be in [0, 1], got {switch_prob}')
        check_finite_positive('SMMix', 'mixup_alpha', mixup_alpha)
        if not 0 <= label_smoothing < 1:
            raise ValueError('SMMix label_smoothing must be in [0, 1), got '
                             f'{label_smoothing}')
        if score not in SCORE_MODES:
            raise ValueError(
                f'SMMix score must be one of {SCORE_MODES}, got {score!r}')
        check_side_ratios(min_side_ratio, max_side_ratio)
        self.switch_prob = switch_prob
        self.mixup_alpha = mixup_alpha
        self.label_smoothing = label_smoothing
        self.min_side_ratio = min_side_ratio
        self.max_side_ratio = max_side_ratio
        self.score = score
        self.random = SyncedRandom(seed, stream='SMMix')
        self.last_branch = None
        self.last_region_size = None

    def check_layout(self, record, image_hw) -> None:
        """Refuse a token layout SMMix cannot mix on (see
        :func:`token_grid_side`); called when the model is built."""
        token_grid_side(record, image_hw)

    def __call__(self,
                 inputs: torch.Tensor,
                 batch_score: torch.Tensor,
                 model=None) -> Tuple[torch.Tensor, torch.Tensor,
                                      Optional[dict]]:
        """Mix a batch.

        Args:
            inputs (Tensor): (B, C, H, W) normalised images.
            batch_score (Tensor): (B, K) one-hot (or soft) labels.
            model (MixImageClassifier): The model being trained.

        Returns:
            tuple: ``(mixed_inputs, mixed_score, mix_info)``. ``mix_info`` is
            None for Mixup batches; for SMMix batches a dict with
            ``source_mask`` (B, S*S) bool, ``lam`` (float),
            ``target_score``/``source_score`` (B, K) smoothed pure labels of
            the two regions, and ``clean_logits`` (B, K) of the unmixed batch.
        """
        if model is None or not hasattr(model, 'clean_forward'):
            raise TypeError(
                'SMMix needs the model: set model.type='
                "'MixImageClassifier' and put SMMix in model.train_cfg."
                'augments (it cannot run as a data_preprocessor '
                'batch_augment of a plain ImageClassifier)')
        score = smooth_labels(batch_score.float(), self.label_smoothing)
        partner = score.flip(0)
        if self.random.random() >= self.switch_prob:
            lam = self.random.beta(self.mixup_alpha)
            self.last_branch, self.last_region_size = 'mixup', None
            mixed = mixup(inputs, lam)
            return mixed, lam * score + (1 - lam) * partner, None

        logits, record = model.clean_forward(inputs, self.score)
        side = token_grid_side(record, inputs.shape[-2:])
        patch_scores = patch_attention_score(record.attn, self.score,
                                             record.num_extra_tokens)
        region = self.random.choice(
            region_sizes(side, self.min_side_ratio, self.max_side_ratio))
        self.last_branch, self.last_region_size = 'smmix', region
        mixed, source_mask, lam = max_min_region_mix(inputs, patch_scores,
                                                     region)
        mix_info = dict(
            source_mask=source_mask,
            lam=lam,
            target_score=score,
            source_score=partner,
            clean_logits=logits)
        return mixed, lam * score + (1 - lam) * partner, mix_info

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(switch_prob={self.switch_prob}, '
                f'mixup_alpha={self.mixup_alpha}, '
                f'label_smoothing={self.label_smoothing}, '
                f'side_ratios=({self.min_side_ratio}, {self.max_side_ratio}),'
                f" score='{self.score}')")
