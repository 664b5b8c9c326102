"""The first training images of a config, collated as its dataloader
would give them: what the benchmarks and checks step and score on."""
import copy
from typing import Iterator

from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmpretrain.registry import DATASETS


def first_training_batches(cfg: Config, images: int,
                           batch_size: int) -> Iterator[dict]:
    """The first ``images`` samples of ``cfg.train_dataloader.dataset``
    (through its train pipeline, in order), collated in batches of
    ``batch_size`` (the last one may be smaller).

    Raises:
        ValueError: If the training set has fewer than ``images`` images.
    """
    dataset = DATASETS.build(copy.deepcopy(cfg.train_dataloader.dataset))
    if images > len(dataset):
        raise ValueError(f'{images} images asked for: the training set has '
                         f'{len(dataset)} images')
    for start in range(0, images, batch_size):
        stop = min(start + batch_size, images)
        yield pseudo_collate([dataset[i] for i in range(start, stop)])


def first_training_batch(cfg: Config, batch_size: int) -> dict:
    """The first ``batch_size`` training samples of ``cfg``, collated."""
    return next(first_training_batches(cfg, batch_size, batch_size))
