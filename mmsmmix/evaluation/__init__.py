"""Evaluation: calibration maths (plain functions), registered metrics and
test loops, robustness maths, and the mixing comparison (``comparison``,
imported on its own)."""
from .calibration import calibration_errors, draw_reliability_diagram
from .metrics import ECE
from .loops import CorruptionTestLoop, OcclusionTestLoop
from .robustness import CORRUPTIONS, occlude, occlusion_mask, patch_order

__all__ = ['calibration_errors', 'draw_reliability_diagram', 'ECE',
           'CorruptionTestLoop', 'OcclusionTestLoop', 'CORRUPTIONS',
           'occlude', 'occlusion_mask', 'patch_order']
