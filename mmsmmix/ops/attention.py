"""Reduce an attention matrix to one importance score per patch token.

Each statistic declares what it needs of the backbone
(:class:`AttentionStatistic`); :func:`check_attention_statistic` refuses one
a backbone cannot give, naming the backbone and the alternative.
Windowed attention (Swin) is mapped back onto the token grid by
:func:`window_attention_to_grid` first.
"""
from dataclasses import dataclass
from typing import Optional, Tuple

import torch


@dataclass(frozen=True)
class AttentionStatistic:
    """An attention statistic an augment may read (``attn_stat``).

    Attributes:
        name (str): Its ``attn_stat`` name.
        class_token (bool | None): True if it needs a class token, False if
            it is defined only without one, None if either.
        alternative (str): The statistic to use where this one is refused.
        meaning (str): One line: what it scores.
    """
    name: str
    class_token: Optional[bool]
    alternative: str
    meaning: str


#: The statistics, by name (see :func:`patch_attention_score`).
ATTENTION_STATISTICS = {
    s.name: s
    for s in (
        AttentionStatistic(
            'patch', None, 'patch',
            'mean over heads and patch queries of the patch-to-patch '
            'attention (official SMMix)'),
        AttentionStatistic(
            'cls', True, 'pooled',
            'class-token-to-patch attention, averaged over heads '
            '(official TransMix and MixPro)'),
        AttentionStatistic(
            'pooled', False, 'cls',
            'mean over heads and all queries of the attention each token '
            'receives: the weights of a globally pooled head, summing to 1 '
            '(ours, for backbones without a class token)'),
    )
}
#: The statistics' names.
ATTN_STATS = tuple(ATTENTION_STATISTICS)


def check_attention_statistic(attn_stat: str, class_token: bool,
                              backbone: str, owner: str) -> None:
    """Refuse a statistic the backbone cannot give.

    Args:
        attn_stat (str): The statistic's name.
        class_token (bool): Whether the backbone has a class token.
        backbone (str): The backbone's name, for the message.
        owner (str): Who reads the statistic (an augment), for the message.

    Raises:
        ValueError: Naming the backbone, the statistic and the alternative.
    """
    if attn_stat not in ATTENTION_STATISTICS:
        raise ValueError(f'{owner} attn_stat must be one of {ATTN_STATS}, '
                         f'got {attn_stat!r}')
    stat = ATTENTION_STATISTICS[attn_stat]
    if stat.class_token is None or stat.class_token == class_token:
        return
    has = 'has a class token' if class_token else 'has no class token'
    alt = ATTENTION_STATISTICS[stat.alternative]
    raise ValueError(
        f"{owner} attn_stat='{attn_stat}' ({stat.meaning}) cannot be read "
        f"from {backbone}, which {has}; use attn_stat='{alt.name}' "
        f'({alt.meaning})')


def attention_probs(q: torch.Tensor, k: torch.Tensor,
                    scale: float) -> torch.Tensor:
    """``softmax(q k^T * scale)`` over the keys, in float32 whatever the
    inputs' dtype or an enclosing autocast (a probe's hook may run inside a
    low-precision forward: the map it records stays float32).

    Args:
        q (Tensor): (B, heads, Q, d) queries.
        k (Tensor): (B, heads, T, d) keys.
        scale (float): Usually ``d ** -0.5``.

    Returns:
        Tensor: (B, heads, Q, T) float32 probabilities.
    """
    with torch.autocast(q.device.type, enabled=False):
        return (q.float() @ k.float().transpose(-2, -1) *
                scale).softmax(dim=-1)


def head_mean(attn: torch.Tensor, record=None) -> torch.Tensor:
    """The reduction ``attn.mean(dim=1)``: (B, heads, Q, T) -> (B, Q, T),
    for a capture of every block (``capture(reduce=head_mean)``)."""
    return attn.mean(dim=1)


def window_token_positions(grid: Tuple[int, int], window: Tuple[int, int],
                           shift: Tuple[int, int] = (0, 0)) -> torch.Tensor:
    """Where each windowed token sits on the token grid.

    Swin pads the grid (bottom, right) to whole windows, rolls it by
    ``-shift`` and partitions it into windows ordered by (window row,
    window column), tokens in raster order within a window.

    Args:
        grid (tuple[int, int]): (H, W) token grid before padding.
        window (tuple[int, int]): (wh, ww) window size in tokens.
        shift (tuple[int, int]): The cyclic shift (rows, cols) of the
            block (0 for a block that does not shift).

    Returns:
        Tensor: (nW, wh*ww) long raster index ``row * W + col`` on the grid
        of each window's tokens, -1 for a padding token.
    """
    (h, w), (wh, ww) = grid, window
    hp, wp = -(-h // wh) * wh, -(-w // ww) * ww
    rows = (torch.arange(hp) + shift[0]) % hp  # rolled row r holds row r+s
    cols = (torch.arange(wp) + shift[1]) % wp
    index = torch.where((rows[:, None] < h) & (cols[None, :] < w),
                        rows[:, None] * w + cols[None, :],
                        torch.full((), -1))
    return index.reshape(hp // wh, wh, wp // ww,
                         ww).permute(0, 2, 1, 3).reshape(-1, wh * ww)


def window_attention_to_grid(attn: torch.Tensor, grid: Tuple[int, int],
                             window: Tuple[int, int],
                             shift: Tuple[int, int] = (0, 0)) -> torch.Tensor:
    """Windowed attention as one attention matrix over the token grid.

    Args:
        attn (Tensor): (B*nW, heads, wh*ww, wh*ww) post-softmax attention
            of every window (see :func:`window_token_positions`).
        grid, window, shift: As :func:`window_token_positions`.

    Returns:
        Tensor: (B, heads, H*W, H*W) in raster order: each token's row holds
        its window's attention at the keys' grid positions, 0 outside its
        window; rows and columns of padding tokens are dropped.
    """
    positions = window_token_positions(grid, window, shift).to(attn.device)
    n_win, size = positions.shape
    b = attn.shape[0] // n_win
    heads = attn.shape[1]
    n = grid[0] * grid[1]
    attn = attn.reshape(b, n_win, heads, size, size)
    # one extra row and column collect what padding tokens would receive
    full = attn.new_zeros(b, heads, n + 1, n + 1)
    pos = torch.where(positions < 0, n, positions)
    flat = (pos[:, :, None] * (n + 1) + pos[:, None, :]).reshape(-1)
    values = attn.permute(0, 2, 1, 3, 4).reshape(b, heads, -1)
    full.view(b, heads, -1).index_copy_(-1, flat, values)
    return full[:, :, :n, :n]


def patch_attention_score(attn: torch.Tensor,
                          attn_stat: str = 'patch',
                          num_extra_tokens: int = 1) -> torch.Tensor:
    """Score each patch token by how much attention it receives.

    Args:
        attn (Tensor): Post-softmax attention probabilities of shape
            (B, heads, Q, E+N), queries by keys, the ``E = num_extra_tokens``
            extra tokens (CLS first) before the N patch tokens. ``'patch'``
            and ``'pooled'`` need all queries (Q = E+N); ``'cls'`` reads
            query 0, the CLS (Q may be 1, as in a class-attention block).
        attn_stat (str): ``'patch'`` (the official SMMix statistic): the mean
            over heads and patch queries of the patch-to-patch attention,
            i.e. the column mean of ``attn[:, :, E:, E:]``. ``'cls'``
            (TransMix and the OpenMixup port): the CLS-to-patch row
            ``attn[:, :, 0, E:]`` averaged over heads. ``'pooled'`` (ours,
            E = 0 only): the column mean of the head-mean attention, the
            weights of a globally pooled head (they sum to 1); where there
            are no extra tokens it equals ``'patch'``.
        num_extra_tokens (int): Number of tokens before the patches.

    Returns:
        Tensor: Scores of shape (B, N) in float32.
    """
    if attn.dim() != 4 or (attn_stat != 'cls'
                           and attn.shape[-1] != attn.shape[-2]):
        raise ValueError(
            "attn must have shape (B, heads, T, T) (or (B, heads, 1, T) for "
            f"attn_stat='cls'), got {tuple(attn.shape)}")
    e = num_extra_tokens
    attn = attn.float()
    if attn_stat == 'patch':
        return attn[:, :, e:, e:].mean(dim=(1, 2))
    if attn_stat == 'cls':
        if e < 1:
            raise ValueError("attn_stat='cls' needs a CLS token "
                             '(num_extra_tokens >= 1)')
        return attn[:, :, 0, e:].mean(dim=1)
    if attn_stat == 'pooled':
        if e:
            raise ValueError("attn_stat='pooled' is defined without extra "
                             f'tokens, got num_extra_tokens={e}')
        return attn.mean(dim=(1, 2))
    raise ValueError(
        f'attn_stat must be one of {ATTN_STATS}, got {attn_stat!r}')
