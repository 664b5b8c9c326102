"""Draw SMMix pairs: target, score map, min/max windows and the mixed image.

Pure helpers (numpy in, numpy or a matplotlib ``Figure`` out; no registry, no
model). Every picture is painted pixel by pixel in numpy, window outlines
included, and placed on the figure unresampled (``Figure.figimage``), so a
token cell of ``P`` pixels covers exactly ``P * scale`` pixels of the PNG and
an outline lies exactly on the border of its window's cells. matplotlib (Agg,
no pyplot) only adds the text.

Window indices are those of :func:`mmsmmix.ops.window_sums`: raster order of
the window's top-left corner over the ``(S-r+1)**2`` positions, the indices
its ``argmin`` / ``argmax`` give.
"""
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

#: Outline of the target's min-score window (where the paste lands).
DST_COLOR = (0, 255, 255)
#: Outline of the partner's max-score window and of the pasted box.
SRC_COLOR = (0, 230, 0)
COLUMNS = ('target i', 'attention score of i\n(and its min window)',
           'min window of i\n(destination)',
           'partner j = B-1-i\nmax window (source)',
           'mixed image i\n(pasted box)')
DPI = 100
FONT_SIZE = 10  # points: 10 * DPI / 72 ~ 14 px per line


def to_display(images, mean=None, std=None, bgr: bool = False) -> np.ndarray:
    """Undo the data preprocessor's normalisation for display.

    Args:
        images (array-like): (B, C, H, W) normalised images, C = 1 or 3
            (a torch tensor or a numpy array).
        mean (sequence, optional): Per-channel mean the preprocessor
            subtracted; None for no normalisation.
        std (sequence, optional): Per-channel std it divided by.
        bgr (bool): Whether 3-channel images are in BGR order (a
            preprocessor with ``to_rgb=False`` on OpenCV-loaded images); they
            are flipped to RGB.

    Returns:
        np.ndarray: (B, H, W, 3) uint8 RGB; grayscale images are repeated
        over the three channels.
    """
    x = np.asarray(images, dtype=np.float64)
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError('images must be (B, C, H, W) with C = 1 or 3, got '
                         f'{x.shape}')
    if mean is not None:
        x = x * np.asarray(std, np.float64).reshape(1, -1, 1, 1) + \
            np.asarray(mean, np.float64).reshape(1, -1, 1, 1)
    if x.shape[1] == 1:
        x = np.repeat(x, 3, axis=1)
    elif bgr:
        x = x[:, ::-1]
    return np.clip(np.rint(x), 0, 255).astype(np.uint8).transpose(0, 2, 3, 1)


def outline(image: np.ndarray, box: Tuple[int, int, int, int],
            color: Sequence[int], thickness: int) -> np.ndarray:
    """Paint a rectangle's border on the inside of ``box``.

    Args:
        image (np.ndarray): (H, W, 3) uint8, painted in place.
        box (tuple): Pixel rectangle ``(top, left, bottom, right)``, end
            exclusive.
        color (sequence): RGB colour.
        thickness (int): Border width in pixels.

    Returns:
        np.ndarray: ``image``.
    """
    top, left, bottom, right = box
    t = max(1, min(thickness, (bottom - top) // 2, (right - left) // 2))
    color = np.asarray(color, np.uint8)
    image[top:top + t, left:right] = color
    image[bottom - t:bottom, left:right] = color
    image[top:bottom, left:left + t] = color
    image[top:bottom, right - t:right] = color
    return image


def heat_overlay(image: np.ndarray, score_map: np.ndarray,
                 alpha: float = 0.6, cmap: str = 'inferno') -> np.ndarray:
    """Blend a per-cell score map, upsampled by cell (nearest), on an image
    shown in gray.

    Args:
        image (np.ndarray): (H, W, 3) uint8; H and W multiples of S.
        score_map (np.ndarray): (S, S) scores, min-max scaled for colour.
        alpha (float): Weight of the heat colours.
        cmap (str): matplotlib colormap name.

    Returns:
        np.ndarray: (H, W, 3) uint8.
    """
    h, w = image.shape[:2]
    score_map = np.asarray(score_map, np.float64)
    side = score_map.shape[0]
    if h % side or w % side:
        raise ValueError(f'image size {h}x{w} is not a multiple of the '
                         f'{side}x{side} score grid')
    # luminance only, so that every colour of the panel is the score's
    gray = image.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    low, high = score_map.min(), score_map.max()
    norm = (score_map - low) / (high - low) if high > low else \
        np.zeros_like(score_map)
    heat = colormaps[cmap](norm)[..., :3] * 255
    heat = heat.repeat(h // side, axis=0).repeat(w // side, axis=1)
    return np.rint((1 - alpha) * gray[..., None] + alpha * heat).astype(
        np.uint8)


@dataclass
class GridLayout:
    """Pixel geometry of :func:`smmix_grid_figure` (origin top left).

    Attributes:
        panel_h (int): Panel height, ``H * scale``.
        panel_w (int): Panel width, ``W * scale``.
        scale (int): Integer upscaling of the images.
        height (int): Figure height in pixels.
        width (int): Figure width in pixels.
    """
    panel_h: int
    panel_w: int
    scale: int
    height: int
    width: int
    margin: int = 10
    gap: int = 10
    title_h: int = 28
    header_h: int = 36
    text_w: int = 230

    def panel_origin(self, row: int, col: int) -> Tuple[int, int]:
        """Pixel ``(y, x)`` of the top-left corner of a panel (or, for col 5,
        of the text cell)."""
        y = self.margin + self.title_h + self.header_h + row * (
            self.panel_h + self.gap)
        x = self.margin + col * (self.panel_w + self.gap)
        return y, x


def grid_layout(num_rows: int, img_h: int, img_w: int,
                scale: Optional[int] = None) -> GridLayout:
    """Geometry of a grid of ``num_rows`` rows of ``img_h x img_w`` images.

    Args:
        num_rows (int): Number of pairs.
        img_h (int): Image height in pixels.
        img_w (int): Image width in pixels.
        scale (int, optional): Integer upscaling; by default the largest one
            that keeps a panel within 224 px (at least 1).

    Returns:
        GridLayout: The geometry.
    """
    if scale is None:
        scale = max(1, 224 // max(img_h, img_w))
    layout = GridLayout(img_h * scale, img_w * scale, scale, 0, 0)
    _, x_text = layout.panel_origin(0, len(COLUMNS))
    layout.width = x_text + layout.text_w + layout.margin
    y_end, _ = layout.panel_origin(num_rows, 0)
    layout.height = y_end - layout.gap + layout.margin
    return layout


def smmix_grid_figure(targets: np.ndarray,
                      partners: np.ndarray,
                      mixed: np.ndarray,
                      target_scores: np.ndarray,
                      dst_boxes: Sequence[Tuple[int, int, int, int]],
                      src_boxes: Sequence[Tuple[int, int, int, int]],
                      region_size: int,
                      lam: float,
                      row_notes: Optional[List[List[str]]] = None,
                      title: Optional[str] = None,
                      scale: Optional[int] = None) -> Figure:
    """One row per target image: what an SMMix batch did to it.

    Columns: the target; its score map (upsampled per cell over the image)
    with its min window; the target with its min (destination) window; the
    partner with its max (source) window; the mixed image with the pasted
    box (at the destination); a text cell with ``lam``, ``1 - lam`` and r.

    Args:
        targets (np.ndarray): (N, H, W, 3) uint8 target images.
        partners (np.ndarray): (N, H, W, 3) uint8 partner (source) images.
        mixed (np.ndarray): (N, H, W, 3) uint8 mixed images.
        target_scores (np.ndarray): (N, S, S) patch scores of the targets.
        dst_boxes (sequence[tuple]): Per target, its min (destination)
            window as cells ``(top, left, bottom, right)``, end exclusive
            (``mmsmmix.ops.window_box``).
        src_boxes (sequence[tuple]): Per target, its partner's max (source)
            window, the same way.
        region_size (int): Window side r in cells.
        lam (float): Target's area share ``1 - r²/S²``.
        row_notes (list[list[str]], optional): Extra text lines per row
            (e.g. labels).
        title (str, optional): Figure title.
        scale (int, optional): Integer upscaling, see :func:`grid_layout`.

    Returns:
        matplotlib.figure.Figure: ``layout.width x layout.height`` pixels at
        ``DPI``; its layout is ``grid_layout(N, H, W, scale)``.
    """
    targets, partners, mixed = (np.asarray(a)
                                for a in (targets, partners, mixed))
    target_scores = np.asarray(target_scores, np.float64)
    n, h, w, _ = targets.shape
    if partners.shape != targets.shape or mixed.shape != targets.shape:
        raise ValueError('targets, partners and mixed must have one shape')
    if target_scores.ndim != 3 or target_scores.shape[0] != n or \
            target_scores.shape[1] != target_scores.shape[2]:
        raise ValueError('target_scores must be (N, S, S), got '
                         f'{target_scores.shape}')
    side = target_scores.shape[1]
    if h % side or w % side:
        raise ValueError(f'image size {h}x{w} is not a multiple of the '
                         f'{side}x{side} token grid')
    layout = grid_layout(n, h, w, scale)
    k = layout.scale
    cell_h, cell_w = h // side * k, w // side * k
    thickness = max(2, layout.panel_w // 112)

    def up(img):
        return np.ascontiguousarray(img.repeat(k, axis=0).repeat(k, axis=1))

    def px(box):
        top, left, bottom, right = box
        return top * cell_h, left * cell_w, bottom * cell_h, right * cell_w

    canvas = np.full((layout.height, layout.width, 3), 255, np.uint8)
    fig = Figure(figsize=(layout.width / DPI, layout.height / DPI), dpi=DPI)
    for i in range(n):
        dst, src = px(dst_boxes[i]), px(src_boxes[i])
        panels = [
            up(targets[i]),
            outline(heat_overlay(up(targets[i]), target_scores[i]), dst,
                    DST_COLOR, thickness),
            outline(up(targets[i]), dst, DST_COLOR, thickness),
            outline(up(partners[i]), src, SRC_COLOR, thickness),
            outline(up(mixed[i]), dst, SRC_COLOR, thickness),
        ]
        for col, panel in enumerate(panels):
            y, x = layout.panel_origin(i, col)
            canvas[y:y + layout.panel_h, x:x + layout.panel_w] = panel
        y, x = layout.panel_origin(i, len(panels))
        lines = list(row_notes[i]) if row_notes else []
        lines += [
            f'r = {region_size} of S = {side} '
            f'({region_size**2}/{side**2} cells)',
            f'target share lam = {lam:.4f}',
            f'source share 1-lam = {1 - lam:.4f}',
        ]
        fig.text((x + 4) / layout.width, 1 - (y + 2) / layout.height,
                 '\n'.join(lines), va='top', ha='left', fontsize=FONT_SIZE,
                 linespacing=1.4)
    fig.figimage(canvas, 0, 0, origin='upper')
    for col, name in enumerate(COLUMNS + ('pair',)):
        y, x = layout.panel_origin(0, col)
        fig.text((x + 2) / layout.width, 1 - (y - 4) / layout.height, name,
                 va='bottom', ha='left', fontsize=FONT_SIZE, linespacing=1.1)
    if title:
        fig.text(layout.margin / layout.width,
                 1 - layout.margin / layout.height, title, va='top',
                 ha='left', fontsize=FONT_SIZE + 1, weight='bold')
    return fig


def save_png(fig: Figure, path: str) -> str:
    """Save a figure as PNG at its own dpi (pixel-exact, no tight bbox).

    Returns:
        str: ``path``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    FigureCanvasAgg(fig).print_png(path)
    return path
