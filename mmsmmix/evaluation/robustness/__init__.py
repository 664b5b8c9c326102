"""Robustness maths: patch occlusion and image corruptions (no registry)."""
from .corruptions import (CORRUPTIONS, RANDOM_CORRUPTIONS, corrupt,
                          parse_corruptions)
from .occlusion import (ORDER_MODES, cell_index, num_dropped, occlude,
                        occlusion_mask, patch_order)

__all__ = [
    'CORRUPTIONS', 'RANDOM_CORRUPTIONS', 'corrupt', 'parse_corruptions',
    'ORDER_MODES', 'cell_index', 'num_dropped', 'occlude', 'occlusion_mask',
    'patch_order'
]
