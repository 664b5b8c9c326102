"""FMix batch augment."""
from typing import Optional

import torch
from mmpretrain.registry import BATCH_AUGMENTS

from mmsmmix.ops import (binarise, check_partner_mode, low_frequency_noise,
                         mix_targets, official_area,
                         official_low_frequency_noise, partner_index)
from mmsmmix.utils import check_finite_positive
from .base import MixAugment, MixContext, MixResult, pixel_share

SPECTRUM_MODES = ('official', 'full')
LABEL_WEIGHT_MODES = ('beta', 'area')


@BATCH_AUGMENTS.register_module()
class FMix(MixAugment):
    """FMix (Harris et al., "FMix: Enhancing Mixed Sample Data
    Augmentation", 2020).

    Each batch draws ``lam ~ Beta(alpha, alpha)`` and one low-frequency
    Fourier grey image of the input size; its brightest pixels keep the
    image, the rest come from its partner. One mask serves the whole batch,
    as in the official code. All draws come from one stream drawn
    identically on every rank, in this order: ``lam``, the noise normals,
    the area coin (``label_weight='beta'`` only), the permutation
    (``partner='randperm'`` only). Model-free: it works as
    ``MixImageClassifier`` augment or as a ``data_preprocessor`` batch
    augment.

    By default every step equals the official code (ecs-vlc/FMix,
    ``fmix.py`` and its torch wrapper) on identical draws, because the
    published FMix numbers were produced with it. Three switches select
    this package's earlier behaviour instead:

    * ``spectrum``: ``'official'`` (default) reproduces the official
      ``make_low_freq_image`` including its indexing bug (the complex
      spectrum is built from frequency rows 0 and 1 instead of the
      real/imaginary pair, so every row of the mask is one kept stretch,
      circularly; see :func:`~mmsmmix.ops.fmix.official_low_frequency_noise`).
      ``'full'`` uses the full ``1 / f^decay`` spectrum the paper's text
      describes (:func:`~mmsmmix.ops.low_frequency_noise`), whose masks are
      2-D blobs.
    * ``label_weight``: ``'beta'`` (default, official) keeps
      ``ceil(lam * H * W)`` or ``floor(lam * H * W)`` pixels by a fair coin
      and weights the labels by the drawn ``lam``. ``'area'`` keeps
      ``round(lam * H * W)`` pixels and weights the labels by the mask's
      exact area share, right to the pixel.
    * ``partner``: ``'randperm'`` (default, official ``torch.randperm``)
      mixes each image with a random permutation of the batch (an image may
      meet itself); ``'flip'`` mixes it with the batch reversed, as SMMix
      and timm do.

    ``spectrum='full', label_weight='area', partner='flip'`` gives
    bit-identical results to this class before the switches existed. The
    mixed images are ``torch.where(mask, x, x[index])``, which equals the
    official ``mask * x + (1 - mask) * x[index]`` for a binary mask, and the
    soft label ``w * y + (1 - w) * y[index]`` gives the official loss
    ``CE(y) * w + CE(y[index]) * (1 - w)`` under cross-entropy.

    Args:
        alpha (float): Beta parameter of ``lam``. Defaults to 1.0.
        decay_power (float): Spectral decay of the noise. Defaults to 3.0.
        seed (int, optional): Seed of the draws; None takes the Runner's.
        spectrum (str): ``'official'`` or ``'full'``. Defaults to
            ``'official'``.
        label_weight (str): ``'beta'`` or ``'area'``. Defaults to ``'beta'``.
        partner (str): ``'randperm'`` or ``'flip'``. Defaults to
            ``'randperm'``.
    """

    def __init__(self,
                 alpha: float = 1.0,
                 decay_power: float = 3.0,
                 seed: Optional[int] = None,
                 spectrum: str = 'official',
                 label_weight: str = 'beta',
                 partner: str = 'randperm'):
        super().__init__(seed)
        check_finite_positive('FMix', 'alpha', alpha)
        check_finite_positive('FMix', 'decay_power', decay_power)
        if spectrum not in SPECTRUM_MODES:
            raise ValueError(f'FMix spectrum must be one of {SPECTRUM_MODES}'
                             f', got {spectrum!r}')
        if label_weight not in LABEL_WEIGHT_MODES:
            raise ValueError('FMix label_weight must be one of '
                             f'{LABEL_WEIGHT_MODES}, got {label_weight!r}')
        check_partner_mode('FMix', partner)
        self.alpha = alpha
        self.decay_power = decay_power
        self.spectrum = spectrum
        self.label_weight = label_weight
        self.partner = partner

    def mix(self,
            inputs: torch.Tensor,
            targets: torch.Tensor,
            context: Optional[MixContext] = None) -> MixResult:
        """Mix a batch.

        Args:
            inputs (Tensor): (B, C, H, W) images.
            targets (Tensor): (B, K) one-hot or soft labels.
            context: Unused (model-free).

        Returns:
            MixResult: Mixed images and ``w * y + (1 - w) * y[index]``, with
            ``w`` the drawn ``lam`` (``label_weight='beta'``) or the mask's
            area share (``label_weight='area'``); ``info``: ``mask`` (H, W)
            bool (True: the image's own pixels), ``lam`` (= ``w``) and
            ``partner`` (B,) indices (also the result's ``partner``);
            ``partner_share``: 1 where ``mask`` is False.
        """
        h, w = inputs.shape[-2:]
        share = self.random.beta(self.alpha)
        if self.spectrum == 'official':
            noise = official_low_frequency_noise(h, w, self.decay_power,
                                                 self.random.rng)
        else:
            noise = low_frequency_noise(h, w, self.decay_power,
                                        self.random.rng)
        if self.label_weight == 'beta':
            area = official_area(share, h * w, self.random.random())
            lam = share
        else:
            area = int(round(share * h * w))
            lam = area / (h * w)
        index = partner_index(inputs.size(0), self.partner,
                              self.random.rng).to(inputs.device)
        mask = torch.from_numpy(binarise(noise, area)).to(inputs.device)
        mixed = torch.where(mask, inputs, inputs[index])
        score = targets.float()
        return MixResult(
            mixed, mix_targets(score, lam, score[index]),
            info=dict(mask=mask, lam=lam, partner=index),
            partner=index, partner_share=pixel_share(inputs, ~mask))

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(alpha={self.alpha}, '
                f'decay_power={self.decay_power}, '
                f'spectrum={self.spectrum!r}, '
                f'label_weight={self.label_weight!r}, '
                f'partner={self.partner!r})')
