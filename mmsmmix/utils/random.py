"""Random draws that every rank makes identically."""
import zlib
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.dist import broadcast_object_list


class SyncedRandom:
    """A numpy generator seeded identically on every rank.

    Per-batch decisions (which augment, which region size, which Beta
    draw) must agree across data-parallel ranks, otherwise ranks train
    different branches in the same step. The seed is rank 0's
    ``torch.initial_seed()`` (set from the config's ``randomness.seed`` by
    the Runner) unless given, broadcast to all ranks on the first draw. Every
    rank then makes the same sequence of calls, so draws stay in lockstep.

    Args:
        seed (int, optional): Fixed seed; None derives it as above.
        stream (str): Name of the stream; users of one seed with different
            names get independent sequences. Defaults to ''.
    """

    def __init__(self, seed: Optional[int] = None, stream: str = ''):
        self.seed = seed
        self.stream = stream
        self._rng = None

    @property
    def rng(self) -> np.random.Generator:
        if self._rng is None:
            seed = [self.seed if self.seed is not None else
                    torch.initial_seed()]
            broadcast_object_list(seed, src=0)
            self._rng = np.random.default_rng(
                [seed[0], zlib.crc32(self.stream.encode())])
        return self._rng

    def random(self) -> float:
        """Uniform draw in [0, 1)."""
        return float(self.rng.random())

    def beta(self, alpha: float) -> float:
        """Draw from Beta(alpha, alpha)."""
        return float(self.rng.beta(alpha, alpha))

    def choice(self, options: Sequence, p: Optional[Sequence[float]] = None):
        """Pick one element of ``options`` (uniform unless ``p`` is given)."""
        return options[int(self.rng.choice(len(options), p=p))]
