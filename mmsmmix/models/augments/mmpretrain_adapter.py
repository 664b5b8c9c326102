"""MMPretrain's batch augments (Mixup, CutMix, ResizeMix, ...) on the
mixing protocol, drawing from a synced stream."""
from typing import Callable, Optional

import torch

from mmsmmix.utils import seeded_global_generators
from .base import MixAugment, MixContext, MixResult


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
            MixResult: Its images and targets; ``info``: the two ``seeds``.
        """
        seeds = [int(s) for s in self.random.rng.integers(0, 2**32, size=2)]
        with seeded_global_generators(*seeds):
            mixed, mixed_targets = self.augment(inputs, targets)
        return MixResult(mixed, mixed_targets, info=dict(seeds=seeds))

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.augment!r})'
