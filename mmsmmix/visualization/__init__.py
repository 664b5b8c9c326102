"""Pure drawing helpers (numpy and matplotlib Agg; no registry)."""
from .smmix_grid import (DST_COLOR, SRC_COLOR, GridLayout, figure_to_array,
                         grid_layout, heat_overlay, outline, save_png,
                         smmix_grid_figure, to_display, window_box)

__all__ = [
    'DST_COLOR', 'SRC_COLOR', 'GridLayout', 'figure_to_array', 'grid_layout',
    'heat_overlay', 'outline', 'save_png', 'smmix_grid_figure', 'to_display',
    'window_box'
]
