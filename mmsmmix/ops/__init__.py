"""Pure tensor operations of the mixing methods (no registry, no config)."""
from .attention import patch_attention_score
from .boxes import attention_share, box_token_mask, cutmix_box
from .cells import cell_token_mask, token_to_pixel_mask
from .fmix import binarise, low_frequency_noise
from .regions import (check_side_ratios, max_min_region_mix, region_sizes,
                      window_sums)

__all__ = [
    'attention_share', 'binarise', 'box_token_mask', 'cell_token_mask',
    'check_side_ratios', 'cutmix_box', 'low_frequency_noise',
    'max_min_region_mix', 'patch_attention_score', 'region_sizes',
    'token_to_pixel_mask', 'window_sums'
]
