"""Robustness testing: patch occlusion maths, the image corruptions (their
maths in ``corruptions``, the registered ``Corrupt`` transform of test
pipelines in ``corrupt``), the options ``tools/test.py`` takes and the report
it writes."""
from .corrupt import Corrupt
from .corruptions import (CORRUPTIONS, RANDOM_CORRUPTIONS, corrupt,
                          parse_corruptions)
from .occlusion import (ORDER_MODES, cell_index, num_dropped, occlude,
                        occlusion_mask, patch_order)
from .options import (add_robustness_args, apply_robustness,
                      check_robustness_args, parse_ratios)
from .report import report_robustness

__all__ = [
    'Corrupt', 'CORRUPTIONS', 'RANDOM_CORRUPTIONS', 'corrupt',
    'parse_corruptions',
    'ORDER_MODES', 'cell_index', 'num_dropped', 'occlude', 'occlusion_mask',
    'patch_order', 'add_robustness_args', 'apply_robustness',
    'check_robustness_args', 'parse_ratios', 'report_robustness'
]
