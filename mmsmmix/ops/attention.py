"""Reduce a ViT attention matrix to one importance score per patch."""
import torch

#: The attention statistics an augment may read (``attn_stat``).
ATTN_STATS = ('patch', 'cls')


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


def patch_attention_score(attn: torch.Tensor,
                          attn_stat: str = 'patch',
                          num_extra_tokens: int = 1) -> torch.Tensor:
    """Score each patch token by how much attention it receives.

    Args:
        attn (Tensor): Post-softmax attention probabilities of shape
            (B, heads, Q, E+N), queries by keys, the ``E = num_extra_tokens``
            extra tokens (CLS first) before the N patch tokens. ``'patch'``
            needs all queries (Q = E+N); ``'cls'`` reads query 0, the CLS
            (Q may be 1, as in a class-attention block).
        attn_stat (str): ``'patch'`` (the official SMMix statistic): the mean
            over heads and patch queries of the patch-to-patch attention,
            i.e. the column mean of ``attn[:, :, E:, E:]``. ``'cls'``
            (TransMix and the OpenMixup port): the CLS-to-patch row
            ``attn[:, :, 0, E:]`` averaged over heads.
        num_extra_tokens (int): Number of tokens before the patches.

    Returns:
        Tensor: Scores of shape (B, N) in float32.
    """
    if attn.dim() != 4 or (attn_stat == 'patch'
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
    raise ValueError(
        f'attn_stat must be one of {ATTN_STATS}, got {attn_stat!r}')
