"""TL-Align's maths: the official token box and corrected lam for fixed
draws, and the label propagation against hand computations (2 blocks,
2 heads) and between its scalar and full-label forms."""
import numpy as np
import torch

from mmsmmix.ops import (head_mean, propagate_token_labels,
                         propagate_token_weights, token_box, token_box_mask)


class FixedCentre:
    """A generator whose ``integers`` returns given values in order (the
    official ``rand_token_bbox`` draws ``cy`` then ``cx``)."""

    def __init__(self, *values):
        self.values = list(values)
        self.calls = []

    def integers(self, low, high):
        self.calls.append((low, high))
        return self.values.pop(0)


def _official(side, lam, cy, cx):
    """rand_token_bbox (tla.py L57-80) written out, with the centre given."""
    ratio = np.sqrt(1 - lam)
    cut_h, cut_w = int(side * ratio), int(side * ratio)
    yl = np.clip(cy - cut_h // 2, 0, side)
    yu = np.clip(cy + cut_h // 2, 0, side)
    xl = np.clip(cx - cut_w // 2, 0, side)
    xu = np.clip(cx + cut_w // 2, 0, side)
    return (yl, yu, xl, xu), 1. - (yu - yl) * (xu - xl) / float(side * side)


def _corrected(box, side):
    top, bottom, left, right = box
    return 1. - (bottom - top) * (right - left) / float(side * side)


def test_token_box_by_hand():
    # 14x14 grid, lam 0.5: cut = int(14 * 0.7071) = 9 (odd) -> half 4, so
    # an 8-token side; centre (7, 3): rows 3..11, columns -1..7 -> 0..7.
    rng = FixedCentre(7, 3)
    box = token_box(14, 0.5, rng)
    assert box == (3, 11, 0, 7)
    assert rng.calls == [(0, 14), (0, 14)]
    assert _corrected(box, 14) == 1 - 56 / 196
    # lam 0.75: cut = int(14 * 0.5) = 7, half 3; centre (13, 6) clipped at
    # the bottom: rows 10..14 (4 rows), columns 3..9 (6).
    box = token_box(14, 0.75, FixedCentre(13, 6))
    assert box == (10, 14, 3, 9)
    assert _corrected(box, 14) == 1 - 24 / 196
    # lam 0.995: cut = int(14 * 0.0707) = 0: an empty box, lam 1.
    box = token_box(14, 0.995, FixedCentre(5, 5))
    assert box == (5, 5, 5, 5) and _corrected(box, 14) == 1.
    # cut = int(14 * sqrt(1 - 0.99)) = 1 -> half 0: empty too.
    assert token_box(14, 0.99, FixedCentre(2, 9)) == (2, 2, 9, 9)


def test_token_box_equals_the_official_formula():
    rs = np.random.default_rng(0)
    for _ in range(200):
        side = int(rs.integers(2, 20))
        lam = float(rs.beta(1, 1))
        cy, cx = int(rs.integers(0, side)), int(rs.integers(0, side))
        box = token_box(side, lam, FixedCentre(cy, cx))
        (yl, yu, xl, xu), lam_official = _official(side, lam, cy, cx)
        assert box == (yl, yu, xl, xu)
        assert _corrected(box, side) == lam_official


def test_token_box_mask_is_raster_order():
    mask = token_box_mask((1, 3, 0, 2), 4)
    assert mask.dtype == torch.bool
    assert mask.nonzero().flatten().tolist() == [4, 5, 8, 9]


def _two_head_attention(head0, head1):
    """(1, 2 heads, T, T) from two row-stochastic (T, T) heads."""
    return torch.stack([torch.tensor(head0), torch.tensor(head1)])[None]


def test_two_blocks_by_hand():
    """T = 3 (class token + 2 patches), K = 2, 2 heads per block."""
    a1 = _two_head_attention([[.5, .5, 0.], [0., 1., 0.], [.2, .2, .6]],
                             [[.1, .3, .6], [.4, .2, .4], [0., 0., 1.]])
    a2 = _two_head_attention([[1., 0., 0.], [.3, .3, .4], [.5, 0., .5]],
                             [[.2, .2, .6], [.1, .1, .8], [.5, .5, 0.]])
    m1, m2 = head_mean(a1), head_mean(a2)
    # head means by hand
    assert torch.allclose(m1[0], torch.tensor(
        [[.3, .4, .3], [.2, .6, .2], [.1, .1, .8]]))
    assert torch.allclose(m2[0], torch.tensor(
        [[.6, .1, .3], [.2, .2, .6], [.5, .25, .25]]))
    # y0: class token 0.7 / 0.3 (lam 0.7), patch 1 own, patch 2 partner
    y0 = torch.tensor([[.7, .3], [1., 0.], [0., 1.]])
    # block 1, own-class column: A1 y0 = (.3*.7+.4, .2*.7+.6, .1*.7+.1)
    #   = (.61, .74, .17); y1 = ((.61+.7)/2, (.74+1)/2, (.17+0)/2)
    y1_own = [(.61 + .7) / 2, (.74 + 1) / 2, .17 / 2]  # .655, .87, .085
    # block 2, class row: .6*.655 + .1*.87 + .3*.085 = .5055;
    #   y2_cls = (.5055 + .655) / 2 = .58025
    cls_own = (.6 * y1_own[0] + .1 * y1_own[1] + .3 * y1_own[2] +
               y1_own[0]) / 2
    assert abs(cls_own - .58025) < 1e-12
    labels = propagate_token_labels(y0[None].double(),
                                    [m1.double(), m2.double()])
    assert torch.allclose(labels[0, 0],
                          torch.tensor([cls_own, 1 - cls_own]).double())
    weights = propagate_token_weights(y0[None, :, 0].double(),
                                      [m1.double(), m2.double()])
    assert torch.allclose(weights[0, 0], torch.tensor(cls_own).double())
    assert torch.allclose(weights[0], labels[0, :, 0])


def test_scalar_and_label_forms_agree_on_twelve_random_blocks():
    """The official (B, 1+N, K) propagation with smoothed labels equals
    ``w y~_a + (1 - w) y~_b`` for the propagated scalar weights."""
    torch.manual_seed(0)
    b, n, k, eps = 3, 16, 10, 0.1
    ya = torch.full((b, k), eps / k)
    ya[torch.arange(b), torch.tensor([1, 4, 7])] += 1 - eps
    yb = ya.flip(0)
    mask = torch.rand(n) < 0.4
    lam = 1 - mask.float().mean().item()
    labels = torch.cat([(lam * ya + (1 - lam) * yb)[:, None],
                        torch.where(mask[None, :, None], yb[:, None],
                                    ya[:, None])], dim=1)
    weights = torch.cat([torch.full((b, 1), lam),
                         (~mask).float().expand(b, -1)], dim=1)
    attns = [head_mean(torch.randn(b, 6, n + 1, n + 1).mul(3).softmax(-1))
             for _ in range(12)]
    full = propagate_token_labels(labels, attns)
    w = propagate_token_weights(weights, attns)
    scalar = w[..., None] * ya[:, None] + (1 - w[..., None]) * yb[:, None]
    assert (full - scalar).abs().max() < 1e-6
    assert torch.allclose(full.sum(-1), torch.ones(b, n + 1))
