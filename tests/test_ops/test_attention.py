"""Tests of patch_attention_score on hand-made attention tensors."""
import pytest
import torch

from mmsmmix.ops import (check_attention_statistic, patch_attention_score,
                         window_attention_to_grid, window_token_positions)


def _attn(num_tokens, heads=2):
    """A[b=0, h, q, k] = (h + 1) * (10 q + k): known row/column means."""
    q = torch.arange(num_tokens, dtype=torch.float64)[:, None]
    k = torch.arange(num_tokens, dtype=torch.float64)[None, :]
    base = 10 * q + k
    return torch.stack([(h + 1) * base for h in range(heads)])[None]


def test_patch_score_is_patch_column_mean():
    """'patch' = mean over heads and patch queries of attn[:, :, 1:, 1:].

    Patch queries q = 1..4: mean(10q + k) = 25 + k; head factors 1 and 2
    average to 1.5, so the score of patch k (k = 1..4) is 1.5 * (25 + k).
    """
    score = patch_attention_score(_attn(5), 'patch')
    assert score.shape == (1, 4)
    assert score.dtype == torch.float32
    assert score.tolist() == [[39., 40.5, 42., 43.5]]


def test_cls_score_is_cls_row_mean_over_heads():
    """'cls' = attn[:, :, 0, 1:] averaged over heads: 1.5 * k."""
    score = patch_attention_score(_attn(5), 'cls')
    assert score.tolist() == [[1.5, 3., 4.5, 6.]]


def test_two_extra_tokens():
    """num_extra_tokens=2 drops two rows and columns (DeiT dist token).

    'patch': queries 2..5 give mean(10q + k) = 35 + k, times 1.5, for
    k = 2..5. 'cls': row 0 only, 1.5 * k for k = 2..5.
    """
    attn = _attn(6)
    assert patch_attention_score(attn, 'patch', 2).tolist() == [
        [55.5, 57., 58.5, 60.]]
    assert patch_attention_score(attn, 'cls', 2).tolist() == [
        [3., 4.5, 6., 7.5]]


def test_row_stochastic_example_and_batch_independence():
    """A tiny softmax-like example: each sample is scored on its own."""
    # 1 head, CLS + 2 patches. Sample 0: both patch queries look at patch 2.
    a0 = torch.tensor([[[.2, .3, .5], [0., 0., 1.], [0., .5, .5]]])
    # Sample 1: patch queries look at the CLS and at patch 1.
    a1 = torch.tensor([[[1., 0., 0.], [.5, .5, 0.], [.5, .5, 0.]]])
    attn = torch.stack([a0, a1])
    assert torch.allclose(patch_attention_score(attn, 'patch'),
                          torch.tensor([[.25, .75], [.5, 0.]]))
    assert torch.allclose(patch_attention_score(attn, 'cls'),
                          torch.tensor([[.3, .5], [0., 0.]]))


def test_half_input_returns_float32():
    """Low-precision attention is reduced in float32."""
    score = patch_attention_score(_attn(5).half(), 'patch')
    assert score.dtype == torch.float32
    assert score.tolist() == [[39., 40.5, 42., 43.5]]


def test_bad_mode_names_allowed_values():
    """An unknown score mode raises ValueError listing 'patch' and 'cls'."""
    with pytest.raises(ValueError, match=r"'patch', 'cls'") as err:
        patch_attention_score(_attn(5), 'mean')
    assert "'mean'" in str(err.value)


def test_bad_shapes_and_cls_without_cls_token():
    """Non-(B,H,T,T) tensors, and 'cls' with no extra token, are rejected."""
    with pytest.raises(ValueError, match='shape'):
        patch_attention_score(torch.rand(2, 5, 5))
    with pytest.raises(ValueError, match='shape'):
        patch_attention_score(torch.rand(1, 2, 5, 4))
    with pytest.raises(ValueError, match='CLS'):
        patch_attention_score(_attn(5), 'cls', 0)
    # 'patch' without extra tokens averages the full matrix.
    full = patch_attention_score(_attn(2, heads=1), 'patch', 0)
    assert full.tolist() == [[5., 6.]]


def test_pooled_score_is_column_mean_over_all_queries():
    """'pooled' (no extra tokens) = mean over heads and all queries.

    With _attn(4): mean over q = 0..3 of (10q + k) = 15 + k, times 1.5;
    for a row-stochastic map the scores sum to 1 (the GAP weights).
    """
    assert patch_attention_score(_attn(4), 'pooled', 0).tolist() == [
        [22.5, 24., 25.5, 27.]]
    attn = torch.tensor([[[[.5, .5, 0.], [0., 1., 0.], [.2, .2, .6]]]])
    score = patch_attention_score(attn, 'pooled', 0)
    assert torch.allclose(score, torch.tensor([[.7 / 3, 1.7 / 3, .6 / 3]]))
    assert score.sum().item() == pytest.approx(1.)
    with pytest.raises(ValueError, match='without extra tokens'):
        patch_attention_score(_attn(5), 'pooled', 1)


def test_statistic_requirements_name_backbone_and_alternative():
    """'cls' needs a class token, 'pooled' needs none, 'patch' either."""
    check_attention_statistic('patch', False, 'SwinTransformer', 'SMMix')
    check_attention_statistic('patch', True, 'VisionTransformer', 'SMMix')
    check_attention_statistic('cls', True, 'VisionTransformer', 'TransMix')
    check_attention_statistic('pooled', False, 'SwinTransformer', 'TransMix')
    with pytest.raises(ValueError) as err:
        check_attention_statistic('cls', False, 'SwinTransformer', 'TransMix')
    message = str(err.value)
    for part in ("TransMix attn_stat='cls'", 'SwinTransformer',
                 'has no class token', "attn_stat='pooled'"):
        assert part in message
    with pytest.raises(ValueError, match="use attn_stat='cls'"):
        check_attention_statistic('pooled', True, 'VisionTransformer',
                                  'TransMix')
    with pytest.raises(ValueError, match="one of .*'nope'"):
        check_attention_statistic('nope', True, 'VisionTransformer', 'X')


def test_window_token_positions_by_hand():
    """A 4x4 grid in 2x2 windows: raster within a window, windows by
    (row, col). Grid raster indices:
         0  1  2  3
         4  5  6  7
         8  9 10 11
        12 13 14 15
    Shift (1, 1): the rolled grid's (r, c) holds ((r+1)%4, (c+1)%4), so
    its first window holds 5 6 / 9 10, the last 15 12 / 3 0.
    A 3x3 grid pads to 4x4: padding tokens are -1."""
    assert window_token_positions((4, 4), (2, 2)).tolist() == [
        [0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13], [10, 11, 14, 15]]
    assert window_token_positions((4, 4), (2, 2), (1, 1)).tolist() == [
        [5, 6, 9, 10], [7, 4, 11, 8], [13, 14, 1, 2], [15, 12, 3, 0]]
    assert window_token_positions((3, 3), (2, 2)).tolist() == [
        [0, 1, 3, 4], [2, -1, 5, -1], [6, 7, -1, -1], [8, -1, -1, -1]]


def test_window_attention_to_grid_places_each_window():
    """Each window's (q, k) entry lands at (pos[q], pos[k]) on the grid,
    zero across windows; padding rows/columns are dropped."""
    # 1 image, 4 windows of 2x2, 1 head; window w's entry (q, k) holds
    # 100 w + 10 q + k, so every value says where it came from.
    w = torch.arange(4.)[:, None, None, None]
    q = torch.arange(4.)[None, None, :, None]
    k = torch.arange(4.)[None, None, None, :]
    attn = 100 * w + 10 * q + k
    full = window_attention_to_grid(attn, (4, 4), (2, 2), (1, 1))
    assert full.shape == (1, 1, 16, 16)
    # window 1 holds grid tokens [7, 4, 11, 8]: its (q=0, k=3) -> (7, 8)
    assert full[0, 0, 7, 8].item() == 103
    assert full[0, 0, 4, 11].item() == 112  # (q=1, k=2)
    # window 3 holds [15, 12, 3, 0]: (q=3, k=1) -> (0, 12)
    assert full[0, 0, 0, 12].item() == 331
    assert full[0, 0, 0, 5].item() == 0  # token 0 and 5 share no window
    assert (full != 0).sum().item() == 4 * 16 - 1  # 4 windows of 4x4 (one 0)
    padded = window_attention_to_grid(attn, (3, 3), (2, 2))
    # unshifted 3x3: window 1 holds [2, pad, 5, pad]; (q=2, k=0) -> (5, 2)
    assert padded.shape == (1, 1, 9, 9)
    assert padded[0, 0, 5, 2].item() == 120
