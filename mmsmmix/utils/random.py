"""Random draws that every rank makes identically, and the random state a
checkpoint must carry for a resumed run to equal the uninterrupted one."""
import random
import zlib
from contextlib import contextmanager
from typing import Iterator, Optional, Sequence

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

    def state_dict(self) -> dict:
        """The generator's position (plain Python values), for checkpoints.

        ``state`` is None while no draw has been made (the seed is not
        settled yet); reading it needs no communication between ranks.
        """
        state = None if self._rng is None else self._rng.bit_generator.state
        return dict(stream=self.stream, state=state)

    def load_state_dict(self, state: dict) -> None:
        """Continue from a position saved by :meth:`state_dict`.

        Raises:
            ValueError: If ``state`` belongs to another stream.
        """
        if state.get('stream') != self.stream:
            raise ValueError(f'random state of stream {state.get("stream")!r}'
                             f' given to stream {self.stream!r}')
        if state['state'] is None:
            self._rng = None
            return
        rng = np.random.default_rng()
        rng.bit_generator.state = state['state']
        self._rng = rng


def global_rng_state() -> dict:
    """This process's Python, numpy and torch (CPU and CUDA) generators.

    Returns:
        dict: Plain lists, tuples, ints and tensors (safe to ``torch.load``
        with ``weights_only=True``).
    """
    name, keys, pos, has_gauss, gauss = np.random.get_state()
    state = dict(
        python=random.getstate(),
        numpy=(name, keys.tolist(), pos, has_gauss, gauss),
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_global_rng_state(state: dict) -> None:
    """Restore what :func:`global_rng_state` returned."""
    random.setstate(state['python'])
    name, keys, pos, has_gauss, gauss = state['numpy']
    np.random.set_state(
        (name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, gauss))
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


@contextmanager
def seeded_global_generators(numpy_seed: int,
                             torch_seed: int) -> Iterator[None]:
    """Seed numpy's global generator and torch's CPU generator for the code
    inside, and give both back their previous states afterwards.

    Code that draws from the global generators (MMPretrain's batch
    augments) then draws what the seeds say, and the rest of the process's
    random sequence is as if it had not run.
    """
    numpy_state = np.random.get_state()
    torch_state = torch.random.get_rng_state()
    np.random.seed(numpy_seed)
    torch.random.default_generator.manual_seed(torch_seed)
    try:
        yield
    finally:
        np.random.set_state(numpy_state)
        torch.random.set_rng_state(torch_state)
