"""Pure tensor operations (no registry, no config): the mixing methods'
maths. (The image corruptions of robustness testing are in
:mod:`mmsmmix.evaluation.robustness`.)"""
from .attention import (ATTENTION_STATISTICS, ATTN_STATS, AttentionStatistic,
                        attention_probs, check_attention_statistic, head_mean,
                        patch_attention_score, window_attention_to_grid,
                        window_token_positions)
from .boxes import attention_share, box_token_mask, cutmix_box
from .cells import cell_counts, cell_token_masks, token_to_pixel_mask
from .fmix import (binarise, low_frequency_noise, official_area,
                   official_low_frequency_noise, official_noise_shape)
from .labels import mix_targets, smooth_labels, token_grid_side
from .pairing import (PARTNER_MODES, check_partner_mode, cutmix, mixup,
                      partner_index)
from .regions import (RegionMix, check_side_ratios, max_min_region_mix,
                      region_sizes, window_box, window_sums)
from .token_align import (propagate_token_labels, propagate_token_weights,
                          token_box, token_box_mask)

__all__ = [
    'ATTENTION_STATISTICS', 'ATTN_STATS', 'AttentionStatistic',
    'check_attention_statistic', 'head_mean', 'window_attention_to_grid',
    'window_token_positions', 'PARTNER_MODES', 'RegionMix', 'attention_share',
    'binarise', 'box_token_mask', 'cell_counts', 'cell_token_masks',
    'check_partner_mode', 'check_side_ratios', 'cutmix', 'cutmix_box',
    'low_frequency_noise', 'max_min_region_mix', 'mix_targets', 'mixup',
    'official_area', 'official_low_frequency_noise',
    'official_noise_shape', 'attention_probs', 'partner_index',
    'patch_attention_score', 'region_sizes', 'smooth_labels',
    'token_grid_side', 'token_to_pixel_mask', 'window_box', 'window_sums',
    'propagate_token_labels', 'propagate_token_weights', 'token_box',
    'token_box_mask'
]
