"""Which augment mixes this batch: drawn identically on every rank."""
from collections import OrderedDict
from typing import List, Optional, Sequence

import torch
from mmpretrain.registry import BATCH_AUGMENTS

from mmsmmix.models.augments.base import MixAugment
from mmsmmix.models.augments.mmpretrain_adapter import MMPretrainAugment
from mmsmmix.utils import SyncedRandom


class AugmentSwitch:
    """The augments of ``model.train_cfg`` and the per-batch choice.

    Configs are built from ``BATCH_AUGMENTS``; anything that is not a
    :class:`MixAugment` (MMPretrain's Mixup, CutMix, ...) is wrapped in
    :class:`MMPretrainAugment`. Each batch draws one augment, uniformly or
    by ``probs`` (a sum below 1 leaves the rest of the batches unmixed),
    from a stream identical on every rank.

    Args:
        augments (list | dict): Augment configs or built augments.
        probs (float | list[float], optional): Their probabilities.
    """

    def __init__(self, augments, probs=None):
        if isinstance(augments, dict):
            augments = [augments]
        built = [
            BATCH_AUGMENTS.build(a) if isinstance(a, dict) else a
            for a in augments
        ]
        self.augments: List[MixAugment] = [
            a if isinstance(a, MixAugment) else MMPretrainAugment(a)
            for a in built
        ]
        self.probs = self._check_probs(probs, len(self.augments))
        self.random = SyncedRandom(stream='MixImageClassifier')

    @staticmethod
    def _check_probs(probs, num_augments: int) -> Optional[List[float]]:
        if probs is None:
            return None
        probs = [float(p) for p in (
            probs if isinstance(probs, (list, tuple)) else [probs])]
        if len(probs) != num_augments:
            raise ValueError(
                f'model.train_cfg.probs has {len(probs)} entries for '
                f'{num_augments} augments')
        if any(p < 0 for p in probs) or sum(probs) > 1 + 1e-6:
            raise ValueError('model.train_cfg.probs must be >= 0 and sum to '
                             f'at most 1, got {probs}')
        return probs

    def pick(self) -> Optional[MixAugment]:
        """One augment (or None: no mixing) for this batch."""
        if not self.augments:
            return None
        if self.probs is None:
            return self.random.choice(self.augments)
        rest = max(1 - sum(self.probs), 0.)
        options: Sequence = self.augments + [None]
        probs = torch.tensor(self.probs + [rest], dtype=torch.float64)
        return self.random.choice(options, p=(probs / probs.sum()).numpy())

    def _named_streams(self):
        """(checkpoint name ``'augments.<i>.<key>'``, augment, stream) of
        every augment's streams."""
        for i, aug in enumerate(self.augments):
            for key, stream in aug.random_streams().items():
                yield f'augments.{i}.{key}', aug, stream

    def random_streams(self) -> 'OrderedDict[str, SyncedRandom]':
        """``'classifier'`` (the choice), then each augment's streams as
        ``'augments.<i>.<name>'``."""
        streams = OrderedDict(classifier=self.random)
        for name, _, stream in self._named_streams():
            streams[name] = stream
        return streams

    def optional_streams(self) -> set:
        """Streams a resumed checkpoint may lack: those of MMPretrain's
        augments, which drew from the global generators (saved per rank)
        before they were given synced streams."""
        return {
            name
            for name, aug, _ in self._named_streams()
            if isinstance(aug, MMPretrainAugment)
        }
