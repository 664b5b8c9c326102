"""``Corrupt``: one ImageNet-C style corruption, seeded per sample."""
import numpy as np
from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

from .corruptions import check_corruption, check_severity, corrupt


@TRANSFORMS.register_module()
class Corrupt(BaseTransform):
    """Corrupt ``results['img']`` with a fixed, per-sample random state.

    The random state is ``np.random.default_rng([seed, sample_idx])``, so a
    sample is corrupted identically in every run, epoch and worker. Put it
    before ``PackInputs``, on the uint8 (H, W) or (H, W, C) image.

    Args:
        name (str): A corruption of ``mmsmmix.evaluation.robustness``
            (``gaussian_noise``, ``shot_noise``, ``impulse_noise``,
            ``defocus_blur``, ``motion_blur``, ``contrast``, ``brightness``,
            ``jpeg``, ``pixelate``, ``fog``).
        severity (int): 1..5. Defaults to 3.
        seed (int): Non-negative base seed. Defaults to 0.
    """

    def __init__(self, name: str, severity: int = 3, seed: int = 0):
        check_corruption(name)
        check_severity(severity)
        if int(seed) < 0:
            raise ValueError(f'seed must be non-negative, got {seed}')
        self.name = name
        self.severity = severity
        self.seed = int(seed)

    def transform(self, results: dict) -> dict:
        """Replace ``results['img']`` by its corrupted copy.

        Args:
            results (dict): Needs ``img`` (uint8 array) and ``sample_idx``
                (set by mmengine's ``BaseDataset``).

        Returns:
            dict: ``results`` with the corrupted ``img``.
        """
        if 'sample_idx' not in results:
            raise KeyError('Corrupt needs results["sample_idx"] to seed the '
                           'corruption of each sample')
        rng = np.random.default_rng([self.seed, int(results['sample_idx'])])
        results['img'] = corrupt(results['img'], self.name, self.severity,
                                 rng)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(name={self.name!r}, '
                f'severity={self.severity}, seed={self.seed})')
