"""FMix batch augment."""
from typing import Optional, Tuple

import torch
from mmpretrain.registry import BATCH_AUGMENTS

from mmsmmix.ops import binarise, low_frequency_noise
from mmsmmix.utils import SyncedRandom, check_finite_positive


@BATCH_AUGMENTS.register_module()
class FMix:
    """FMix (Harris et al., "FMix: Enhancing Mixed Sample Data
    Augmentation", 2020).

    Each batch draws ``lam ~ Beta(alpha, alpha)`` and one low-frequency
    Fourier noise image of the input size; its ``round(lam * H * W)``
    brightest pixels keep the image, the rest come from its partner (the
    batch reversed, as in SMMix). The label weight is the mask's exact area,
    so it is right to the pixel. As in the official code, one mask serves
    the whole batch. ``lam`` and the noise come from a stream drawn
    identically on every rank. Model-free: it works as
    ``MixImageClassifier`` augment or as a ``data_preprocessor`` batch
    augment.

    Args:
        alpha (float): Beta parameter of ``lam``. Defaults to 1.0.
        decay_power (float): Spectral decay of the noise. Defaults to 3.0.
        seed (int, optional): Seed of the draws; None takes the Runner's.
    """

    def __init__(self,
                 alpha: float = 1.0,
                 decay_power: float = 3.0,
                 seed: Optional[int] = None):
        check_finite_positive('FMix', 'alpha', alpha)
        check_finite_positive('FMix', 'decay_power', decay_power)
        self.alpha = alpha
        self.decay_power = decay_power
        self.random = SyncedRandom(seed, stream='FMix')
        self.last_mask = None

    def __call__(self, inputs: torch.Tensor,
                 batch_score: torch.Tensor) -> Tuple[torch.Tensor,
                                                     torch.Tensor]:
        """Mix a batch.

        Args:
            inputs (Tensor): (B, C, H, W) images.
            batch_score (Tensor): (B, K) one-hot or soft labels.

        Returns:
            tuple: Mixed images and ``lam * y + (1 - lam) * y.flip(0)``.
        """
        h, w = inputs.shape[-2:]
        area = int(round(self.random.beta(self.alpha) * h * w))
        noise = low_frequency_noise(h, w, self.decay_power, self.random.rng)
        mask = torch.from_numpy(binarise(noise, area)).to(inputs.device)
        self.last_mask = mask
        mixed = torch.where(mask, inputs, inputs.flip(0))
        lam = area / (h * w)
        score = batch_score.float()
        return mixed, lam * score + (1 - lam) * score.flip(0)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(alpha={self.alpha}, '
                f'decay_power={self.decay_power})')
