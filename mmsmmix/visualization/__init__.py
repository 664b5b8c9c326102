"""Pure drawing helpers (numpy and matplotlib Agg; no registry)."""
from .mixing_grid import (PASTE_COLOR, PASTE_LINING, MixingLayout, MixingRows,
                          heat_map, mixing_grid_figure, mixing_layout,
                          region_border)
from .smmix_grid import (DST_COLOR, SRC_COLOR, GridLayout, grid_layout,
                         heat_overlay, outline, save_png, smmix_grid_figure,
                         to_display)

__all__ = [
    'DST_COLOR', 'PASTE_COLOR', 'PASTE_LINING', 'SRC_COLOR', 'GridLayout',
    'MixingLayout', 'MixingRows', 'grid_layout', 'heat_map', 'heat_overlay',
    'mixing_grid_figure', 'mixing_layout', 'outline', 'region_border',
    'save_png', 'smmix_grid_figure', 'to_display'
]
