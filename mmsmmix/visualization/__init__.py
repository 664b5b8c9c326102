"""Pure drawing helpers (numpy and matplotlib Agg; no registry)."""
from .smmix_grid import (DST_COLOR, SRC_COLOR, GridLayout, grid_layout,
                         heat_overlay, outline, save_png, smmix_grid_figure,
                         to_display)

__all__ = [
    'DST_COLOR', 'SRC_COLOR', 'GridLayout', 'grid_layout', 'heat_overlay',
    'outline', 'save_png', 'smmix_grid_figure', 'to_display'
]
