"""Robustness testing: patch occlusion maths, the image corruptions (their
maths in ``corruptions``, the registered ``Corrupt`` transform of test
pipelines in ``corrupt``), the options ``tools/test.py`` takes and the report
it writes."""
from .corrupt import Corrupt
from .corruptions import (CORRUPTIONS, RANDOM_CORRUPTIONS, corrupt,
                          parse_corruptions)
from .occlusion import (ORDER_MODES, cell_index, num_dropped, occlude,
                        occlusion_mask, patch_order)
from .options import apply_robustness, check_robustness_args, parse_ratios
from .report import report_robustness

__all__ = [
    'Corrupt', 'CORRUPTIONS', 'RANDOM_CORRUPTIONS', 'corrupt',
    'parse_corruptions',
    'ORDER_MODES', 'cell_index', 'num_dropped', 'occlude', 'occlusion_mask',
    'patch_order', 'apply_robustness',
    'check_robustness_args', 'parse_ratios', 'report_robustness'
]


def __getattr__(name):
    # add_robustness_args moved to mmsmmix_cli (deprecated alias)
    from mmsmmix.utils.moved import moved_attribute
    return moved_attribute(__name__, name)
