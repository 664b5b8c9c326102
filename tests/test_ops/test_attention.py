"""Tests of patch_attention_score on hand-made attention tensors."""
import pytest
import torch

from mmsmmix.ops import patch_attention_score


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
