"""Pure tensor operations of the mixing methods (no registry, no config)."""
from .attention import patch_attention_score
from .regions import (check_side_ratios, max_min_region_mix, region_sizes,
                      window_sums)

__all__ = [
    'patch_attention_score', 'check_side_ratios', 'max_min_region_mix', 'region_sizes',
    'window_sums'
]
