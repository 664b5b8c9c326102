"""Draw mixed pairs of any method: the two images, the mixed image, how
much of each pixel came from the partner, the attention the method read
and the label weights it trains on.

Pure helpers (numpy in, a matplotlib ``Figure`` out; no registry, no
model). As in :mod:`.smmix_grid`, every picture is painted pixel by pixel in
numpy and placed unresampled (``Figure.figimage``): an image pixel covers
exactly ``scale x scale`` pixels of the PNG, and the outline of the pasted
region lies on the region's own border pixels. matplotlib only adds text.

The figure holds blocks, one per augment (one draw), in ``columns``
columns of blocks; each block is a title, a subtitle and one row per pair.
"""
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from .smmix_grid import DPI, SRC_COLOR

#: Outline of the pixels that come from the partner (on the mixed image
#: and on the attention map), lined inside by one pixel of
#: ``PASTE_LINING`` so that it shows on green pictures too.
PASTE_COLOR = SRC_COLOR
PASTE_LINING = (0, 0, 0)
#: Background of a panel with nothing to show.
EMPTY_GRAY = 235
MIXING_COLUMNS = (
    'image i', 'partner j',
    'mixed image i\ngreen: border of\nthe pixels from j',
    'share of j in\neach pixel\n(black 0, white 1)',
    'attention the\nmethod read\n(green: as left)',
    'label weights\ntrained on')
FONT_SIZE = 9  # points: 12.5 px at DPI 100
LINE_SPACING = 1.3


@dataclass
class MixingRows:
    """One block of the figure: an augment's draw, as pictures and text.

    Attributes:
        title (str): First line (method, config, weights).
        subtitle (str): Second line (branch, attention, head).
        own (np.ndarray): (N, H, W, 3) uint8 images i.
        partner (np.ndarray): (N, H, W, 3) uint8 partners j.
        mixed (np.ndarray): (N, H, W, 3) uint8 mixed images.
        share (np.ndarray, optional): (N, H, W) partner share in [0, 1]
            (None: the augment does not say).
        attention (np.ndarray, optional): (N, h, w) attention scores on a
            token grid (None: the method reads none).
        attention_on (str): The picture under the attention: ``'own'``
            (read on the unmixed batch) or ``'mixed'``.
        notes (list[list[str]]): Text lines of each row.
    """
    title: str
    subtitle: str
    own: np.ndarray
    partner: np.ndarray
    mixed: np.ndarray
    share: Optional[np.ndarray] = None
    attention: Optional[np.ndarray] = None
    attention_on: str = 'own'
    notes: List[List[str]] = field(default_factory=list)


@dataclass
class MixingLayout:
    """Pixel geometry of :func:`mixing_grid_figure` (origin top left).

    Attributes:
        rows (list[int]): Rows of each block.
        columns (int): Columns of blocks.
        panel_h (int): Panel height, ``H * scale``.
        panel_w (int): Panel width, ``W * scale``.
        scale (int): Integer upscaling of the images.
        text_w (int): Width of the text cell of a row.
        height (int): Figure height in pixels.
        width (int): Figure width in pixels.
    """
    rows: List[int]
    columns: int
    panel_h: int
    panel_w: int
    scale: int
    text_w: int = 250
    height: int = 0
    width: int = 0
    margin: int = 10
    gap: int = 8
    block_gap: int = 22
    column_gap: int = 30
    title_h: int = 30
    header_h: int = 46
    block_title_h: int = 38

    @property
    def block_w(self) -> int:
        """Width of a block: five panels and the text cell."""
        return 5 * (self.panel_w + self.gap) + self.text_w

    def block_h(self, rows: int) -> int:
        return self.block_title_h + rows * (self.panel_h + self.gap)

    def block_origin(self, block: int) -> Tuple[int, int]:
        """Pixel ``(y, x)`` of a block's top-left corner (its title)."""
        col = block % self.columns
        y = self.margin + self.title_h + self.header_h
        for above in range(col, block, self.columns):
            y += self.block_h(self.rows[above]) + self.block_gap
        x = self.margin + col * (self.block_w + self.column_gap)
        return y, x

    def panel_origin(self, block: int, row: int, col: int) -> Tuple[int, int]:
        """Pixel ``(y, x)`` of a panel (col 0..4) or, for col 5, of the
        text cell of a row."""
        y, x = self.block_origin(block)
        return (y + self.block_title_h + row * (self.panel_h + self.gap),
                x + col * (self.panel_w + self.gap))


def mixing_layout(rows: Sequence[int], img_h: int, img_w: int,
                  scale: Optional[int] = None,
                  columns: Optional[int] = None,
                  text_w: int = 250) -> MixingLayout:
    """Geometry of blocks of ``rows[b]`` rows of ``img_h x img_w`` images.

    Args:
        rows (sequence[int]): Rows of each block.
        img_h (int): Image height in pixels.
        img_w (int): Image width in pixels.
        scale (int, optional): Integer upscaling; by default the largest
            that keeps a panel within 112 px (at least 1).
        columns (int, optional): Columns of blocks; by default 1 for up to
            three blocks, else 2.
        text_w (int): Width of the text cells.

    Returns:
        MixingLayout: The geometry.
    """
    if scale is None:
        scale = max(1, 112 // max(img_h, img_w))
    if columns is None:
        columns = 1 if len(rows) <= 3 else 2
    columns = max(1, min(columns, len(rows)))
    layout = MixingLayout(list(rows), columns, img_h * scale, img_w * scale,
                          scale, text_w)
    bottom = 0
    for block, count in enumerate(rows):
        y, _ = layout.block_origin(block)
        bottom = max(bottom, y + layout.block_h(count))
    layout.height = bottom - layout.gap + layout.margin
    layout.width = (2 * layout.margin + columns * layout.block_w +
                    (columns - 1) * layout.column_gap)
    return layout


def upscale(img: np.ndarray, k: int) -> np.ndarray:
    """Repeat each pixel of a (H, W, ...) array ``k x k`` times."""
    return np.ascontiguousarray(img.repeat(k, axis=0).repeat(k, axis=1))


def region_border(region: np.ndarray, thickness: int) -> np.ndarray:
    """The border of a region on its own side: pixels of ``region`` with
    a pixel outside it in their ``(2 * thickness + 1)``-pixel square.
    The image's edge is no border, so a region that fills the image (a
    uniform blend) has none.

    Args:
        region (np.ndarray): (H, W) bool.
        thickness (int): Border width in pixels.

    Returns:
        np.ndarray: (H, W) bool.
    """
    region = np.asarray(region, bool)
    h, w = region.shape
    t = thickness
    outside = np.pad(~region, t, constant_values=False)
    near = np.zeros_like(region)
    for dy in range(-t, t + 1):
        for dx in range(-t, t + 1):
            near |= outside[t + dy:t + dy + h, t + dx:t + dx + w]
    return region & near


def heat_map(image: np.ndarray, scores: np.ndarray, alpha: float = 0.6,
             cmap: str = 'inferno') -> np.ndarray:
    """Blend per-token scores (nearest, any grid) on an image in gray.

    Args:
        image (np.ndarray): (H, W, 3) uint8.
        scores (np.ndarray): (h, w) scores, min-max scaled for colour.
        alpha (float): Weight of the heat colours.
        cmap (str): matplotlib colormap name.

    Returns:
        np.ndarray: (H, W, 3) uint8.
    """
    h, w = image.shape[:2]
    scores = np.asarray(scores, np.float64)
    gh, gw = scores.shape
    gray = image.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    low, high = scores.min(), scores.max()
    norm = (scores - low) / (high - low) if high > low else \
        np.zeros_like(scores)
    norm = norm[np.arange(h) * gh // h][:, np.arange(w) * gw // w]
    heat = colormaps[cmap](norm)[..., :3] * 255
    return np.rint((1 - alpha) * gray[..., None] + alpha * heat).astype(
        np.uint8)


def _check(block: MixingRows) -> Tuple[int, int, int]:
    """A block's (N, H, W), or ValueError naming what does not fit."""
    n, h, w, _ = np.shape(block.own)
    for name in ('partner', 'mixed'):
        if np.shape(getattr(block, name)) != (n, h, w, 3):
            raise ValueError(f'{name} must be (N, H, W, 3) like own, got '
                             f'{np.shape(getattr(block, name))}')
    if block.share is not None and np.shape(block.share) != (n, h, w):
        raise ValueError(f'share must be (N, H, W), got '
                         f'{np.shape(block.share)}')
    if block.attention is not None and (
            np.ndim(block.attention) != 3 or len(block.attention) != n):
        raise ValueError('attention must be (N, h, w), got '
                         f'{np.shape(block.attention)}')
    if block.attention_on not in ('own', 'mixed'):
        raise ValueError("attention_on must be 'own' or 'mixed', got "
                         f'{block.attention_on!r}')
    return n, h, w


def block_panels(block: MixingRows, row: int, scale: int,
                 thickness: int) -> List[Optional[np.ndarray]]:
    """The five panels of one row (None: an empty panel), upscaled; the
    pixels from the partner outlined on the mixed image and the attention
    map: their :func:`region_border` in ``PASTE_COLOR``, lined inside by
    one pixel of ``PASTE_LINING``."""
    border = lining = None
    if block.share is not None:
        region = upscale(np.asarray(block.share)[row] > 0, scale)
        border = region_border(region, thickness)
        lining = region_border(region, thickness + 1) & ~border

    def outlined(img):
        img = img.copy()
        if border is not None:
            img[lining] = PASTE_LINING
            img[border] = PASTE_COLOR
        return img

    panels = [upscale(block.own[row], scale),
              upscale(block.partner[row], scale),
              outlined(upscale(block.mixed[row], scale))]
    if block.share is None:
        panels.append(None)
    else:
        gray = np.rint(255 * np.clip(np.asarray(block.share[row],
                                                np.float64), 0, 1))
        panels.append(upscale(np.repeat(gray.astype(np.uint8)[..., None],
                                        3, axis=-1), scale))
    if block.attention is None:
        panels.append(None)
    else:
        under = block.own if block.attention_on == 'own' else block.mixed
        panels.append(outlined(heat_map(upscale(under[row], scale),
                                        block.attention[row])))
    return panels


def mixing_grid_figure(blocks: Sequence[MixingRows],
                       title: Optional[str] = None,
                       scale: Optional[int] = None,
                       columns: Optional[int] = None
                       ) -> Tuple[Figure, MixingLayout]:
    """All blocks in one figure.

    Columns of a block: image i, partner j, the mixed image with the border
    of the pixels from j outlined, the share of j per pixel, the attention
    the method read (on image i for a read of the unmixed batch, on the
    mixed image for a read of the mixed forward; the same outline) and a
    text cell (the rows' notes). The text cells widen until every line
    fits.

    Args:
        blocks (sequence[MixingRows]): The blocks, all of one image size.
        title (str, optional): Figure title.
        scale (int, optional): Integer upscaling, see :func:`mixing_layout`.
        columns (int, optional): Columns of blocks, see
            :func:`mixing_layout`.

    Returns:
        tuple: The figure (``layout.width x layout.height`` pixels at
        ``DPI``) and its :class:`MixingLayout`.
    """
    if not blocks:
        raise ValueError('nothing to draw: no blocks')
    sizes = {_check(b)[1:] for b in blocks}
    if len(sizes) != 1:
        raise ValueError(f'blocks have images of several sizes: {sizes}')
    (h, w), = sizes
    rows = [len(b.own) for b in blocks]
    text_w = 250
    for _ in range(3):
        layout = mixing_layout(rows, h, w, scale, columns, text_w)
        fig, wanted = _draw(blocks, layout, title)
        if wanted <= layout.text_w:
            return fig, layout
        text_w = wanted
    return fig, layout


def _draw(blocks, layout: MixingLayout, title) -> Tuple[Figure, int]:
    """The figure on ``layout``, and the text cell width its text needs."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    k = layout.scale
    thickness = max(2, layout.panel_w // 56)
    canvas = np.full((layout.height, layout.width, 3), 255, np.uint8)
    fig = Figure(figsize=(layout.width / DPI, layout.height / DPI), dpi=DPI)
    FigureCanvasAgg(fig)

    def text(y, x, s, **kwargs):
        kwargs.setdefault('fontsize', FONT_SIZE)
        return fig.text(x / layout.width, 1 - y / layout.height, s,
                        ha='left', **kwargs)

    # each text with the width it may take
    sized = []
    for b, block in enumerate(blocks):
        y, x = layout.block_origin(b)
        sized.append((text(y + 2, x, block.title, va='top', weight='bold'),
                      layout.block_w))
        sized.append((text(y + 19, x, block.subtitle, va='top'),
                      layout.block_w))
        for row in range(len(block.own)):
            for col, panel in enumerate(block_panels(block, row, k,
                                                     thickness)):
                py, px = layout.panel_origin(b, row, col)
                area = canvas[py:py + layout.panel_h,
                              px:px + layout.panel_w]
                if panel is None:
                    area[:] = EMPTY_GRAY
                    what = 'not said' if col == 3 else 'reads none'
                    text(py + layout.panel_h / 2, px + 6, what,
                         va='center', color='0.35')
                else:
                    area[:] = panel
            py, px = layout.panel_origin(b, row, 5)
            notes = block.notes[row] if block.notes else []
            sized.append((text(py, px + 2, '\n'.join(notes), va='top',
                               linespacing=LINE_SPACING,
                               family='monospace'), layout.text_w))
    for col in range(layout.columns):
        for c, name in enumerate(MIXING_COLUMNS):
            y = layout.margin + layout.title_h
            x = layout.margin + col * (layout.block_w + layout.column_gap) + \
                c * (layout.panel_w + layout.gap)
            text(y, x + 1, name, va='top', fontsize=FONT_SIZE - 0.5,
                 linespacing=1.1, color='0.2')
    if title:
        text(layout.margin, layout.margin, title, va='top',
             fontsize=FONT_SIZE + 2, weight='bold')
    fig.figimage(canvas, 0, 0, origin='upper')
    renderer = fig.canvas.get_renderer()
    wanted = layout.text_w
    for artist, room in sized:
        width = artist.get_window_extent(renderer).width
        if room == layout.text_w:
            wanted = max(wanted, int(np.ceil(width)) + 8)
        elif width > room:
            wanted = max(wanted, layout.text_w + int(np.ceil(width - room))
                         + 8)
    return fig, wanted
