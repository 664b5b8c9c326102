"""Evaluation of trained models: calibration maths (plain functions),
registered metrics and test loops, robustness (occlusion and corruption
maths, the ``Corrupt`` transform). Benchmarks and experiments (the mixing
comparison, step time, ...) are in :mod:`mmsmmix.benchmarks`."""
from .calibration import calibration_errors, draw_reliability_diagram
from .loops import CorruptionTestLoop, OcclusionTestLoop
from .metrics import ECE
from .robustness import CORRUPTIONS, occlude, occlusion_mask, patch_order

__all__ = ['calibration_errors', 'draw_reliability_diagram', 'ECE',
           'CorruptionTestLoop', 'OcclusionTestLoop', 'CORRUPTIONS',
           'occlude', 'occlusion_mask', 'patch_order']
