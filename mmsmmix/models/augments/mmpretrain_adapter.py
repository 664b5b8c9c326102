"""MMPretrain's batch augments (Mixup, CutMix, ResizeMix, ...) on the
mixing protocol, drawing from a synced stream."""
from typing import Callable, Optional, Sequence, Tuple

import numpy as np
import torch
from mmpretrain.models.utils.batch_augments import CutMix, Mixup, ResizeMix

from mmsmmix.utils import seeded_global_generators
from .base import MixAugment, MixContext, MixResult, pixel_share

#: The augments whose draws :meth:`MMPretrainAugment.mix` can replay (the
#: exact classes: a subclass may draw otherwise).
REPLAYED = (Mixup, CutMix, ResizeMix)


class MMPretrainAugment(MixAugment):
    """A model-free ``aug(inputs, scores) -> (inputs, scores)`` batch augment
    (MMPretrain's ``Mixup``, ``CutMix``, ``ResizeMix`` or any of that call
    shape) as a :class:`MixAugment`.

    MMPretrain's augments draw ``lam``, boxes and partners from numpy's and
    torch's global generators, which differ between ranks and which no
    checkpoint stream carries. Here every call runs with those two
    generators seeded from this augment's synced stream (two seeds drawn per
    call) and gives them back their own states afterwards: the maths is
    MMPretrain's, unchanged; the draws are identical on every rank,
    reproducible from the config's seed and resumed exactly; the rest of the
    process's random sequence does not see the call.

    Which pixels came from which image (``partner``, ``partner_share``)
    is known for MMPretrain's own ``Mixup``, ``CutMix`` and ``ResizeMix``:
    their draws (``lam``, ``torch.randperm`` partner, box) are replayed
    under the same seeds, in their order and with their own box function,
    after the call (the global generators get their states back again);
    None for other augments.

    ``MixImageClassifier`` wraps every augment that is not a
    :class:`MixAugment` in this class.

    Args:
        augment (Callable): The built augment.
        seed (int, optional): Seed of the stream; None takes the Runner's.
    """

    def __init__(self, augment: Callable, seed: Optional[int] = None):
        self.augment = augment
        super().__init__(seed)

    @property
    def name(self) -> str:
        """The wrapped augment's type (``'Mixup'``, ``'CutMix'`` ...)."""
        return type(self.augment).__name__

    def mix(self,
            inputs: torch.Tensor,
            targets: torch.Tensor,
            context: Optional[MixContext] = None) -> MixResult:
        """Run the wrapped augment with seeded global generators.

        Returns:
            MixResult: Its images and targets; ``info``: the two ``seeds``;
            ``partner`` and ``partner_share`` for :data:`REPLAYED` augments
            (``1 - lam`` everywhere for Mixup, 1 in the box for CutMix and
            ResizeMix, whose box holds the whole partner resized).
        """
        seeds = [int(s) for s in self.random.rng.integers(0, 2**32, size=2)]
        with seeded_global_generators(*seeds):
            mixed, mixed_targets = self.augment(inputs, targets)
        partner, share = self.replay(mixed, seeds)
        return MixResult(mixed, mixed_targets, info=dict(seeds=seeds),
                         partner=partner, partner_share=share)

    def replay(
        self, mixed: torch.Tensor, seeds: Sequence[int]
    ) -> Tuple[Optional[torch.Tensor], Optional[torch.Tensor]]:
        """The partners (B,) and partner share (B, 1, H, W) of the wrapped
        augment's call under ``seeds`` that gave ``mixed``: its draws made
        again, as its ``mix`` makes them; (None, None) for an augment that
        is not one of :data:`REPLAYED`."""
        aug = self.augment
        kind = type(aug)
        if kind not in REPLAYED:
            return None, None
        with seeded_global_generators(*seeds):
            lam = np.random.beta(aug.alpha, aug.alpha)
            if kind is ResizeMix:
                lam = lam * (aug.lam_max - aug.lam_min) + aug.lam_min
            index = torch.randperm(mixed.size(0))
            if kind is not Mixup:
                box, _ = aug.cutmix_bbox_and_lam(mixed.shape[-2:], lam)
        index = index.to(mixed.device)
        if kind is Mixup:
            return index, pixel_share(mixed, 1 - lam)
        top, bottom, left, right = (int(v) for v in box)
        in_box = torch.zeros(mixed.shape[-2:], dtype=torch.bool,
                             device=mixed.device)
        in_box[top:bottom, left:right] = True
        return index, pixel_share(mixed, in_box)

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.augment!r})'
