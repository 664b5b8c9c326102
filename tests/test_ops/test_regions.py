"""Tests of the max-min region mixing ops (mmsmmix.ops.regions).

Expected windows, masks and pixels are written by hand from score maps built
so that the argmax/argmin windows are known; bit-exactness is checked against
a device-agnostic transcription of the official SMMix code.
"""
import pytest
import torch
import torch.nn.functional as F

from mmsmmix.ops import (check_side_ratios, max_min_region_mix, region_sizes,
                         window_box, window_sums)

# 4x4 map A, r=2: window sums (corners in raster order) are
# [0, -2, -4, 5, 9, 3, 10, 20, 10] -> max at corner (2,1), min at (0,2).
MAP_A = torch.tensor([[0., 0., -1., -1.],
                      [0., 0., -1., -1.],
                      [0., 5., 5., 0.],
                      [0., 5., 5., 0.]])
SUMS_A = [0., -2., -4., 5., 9., 3., 10., 20., 10.]
# 4x4 map B, r=2: sums [12, 6, 0, 6, 3, 0, 0, 0, -2] -> max (0,0), min (2,2).
MAP_B = torch.tensor([[3., 3., 0., 0.],
                      [3., 3., 0., 0.],
                      [0., 0., 0., 0.],
                      [0., 0., 0., -2.]])
SUMS_B = [12., 6., 0., 6., 3., 0., 0., 0., -2.]


def _images(b, c=2, h=8, w=8):
    """Images whose every pixel value is unique across the batch."""
    return torch.arange(b * c * h * w, dtype=torch.float32).reshape(b, c, h, w)


# ---------------------------------------------------------------- helpers
def test_region_sizes_official_ranges():
    """Candidate sides are int(S*min)..int(S*max) (DeiT 14 and PVT 7)."""
    assert region_sizes(14, .25, .75) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert region_sizes(7, .25, .75) == [1, 2, 3, 4, 5]


def test_region_sizes_never_cover_whole_grid():
    """Sides are capped at S-1 and floored at 1."""
    assert region_sizes(4, .1, 1.) == [1, 2, 3]
    with pytest.raises(ValueError, match='widen the ratios'):
        region_sizes(1, .5, 1.)


@pytest.mark.parametrize('low,high,key', [
    (0., .5, 'min_side_ratio'),
    (-.1, .5, 'min_side_ratio'),
    (.25, 1.5, 'max_side_ratio'),
    (.25, 0., 'max_side_ratio'),
    (.8, .5, 'min_side_ratio must not exceed max_side_ratio'),
])
def test_check_side_ratios_names_the_bad_key(low, high, key):
    """Bad side ratios raise ValueError naming the offending key."""
    with pytest.raises(ValueError, match=key):
        check_side_ratios(low, high)
    with pytest.raises(ValueError, match=key):
        region_sizes(14, low, high)


def test_check_side_ratios_accepts_valid():
    """Valid ratios (including equal and 1.0) pass silently."""
    check_side_ratios(.25, .75)
    check_side_ratios(.5, .5)
    check_side_ratios(.1, 1.)


def test_window_sums_hand_values():
    """Stride-1 r x r box sums in raster order of the top-left corner."""
    sums = window_sums(torch.stack([MAP_A, MAP_B]), 2)
    assert sums.tolist() == [SUMS_A, SUMS_B]
    # r=1 is the map itself, r=S one window with the total.
    assert torch.equal(window_sums(MAP_A[None], 1), MAP_A.reshape(1, 16))
    assert window_sums(MAP_A[None], 4).tolist() == [[16.]]
    # r=3 on map A: corners (0,0),(0,1),(1,0),(1,1).
    assert window_sums(MAP_A[None], 3).tolist() == [[8., 6., 19., 18.]]


# ------------------------------------------------------- max_min_region_mix
def _mix(*args):
    """(mixed, source_mask, lam) of max_min_region_mix."""
    region = max_min_region_mix(*args)
    return region.mixed, region.source_mask, region.lam


@pytest.mark.parametrize('flat', [True, False])
def test_mix_hand_built_windows(flat):
    """Each image gets its partner's max window on its own min window.

    Sample 0 (map A): min window cells rows 0-1, cols 2-3 (pixels [0:4, 4:8])
    receives sample 1's (map B) max window, cells rows 0-1, cols 0-1
    (pixels [0:4, 0:4]). Sample 1: min window cells rows 2-3, cols 2-3
    (pixels [4:8, 4:8]) receives sample 0's max window, cells rows 2-3,
    cols 1-2 (pixels [4:8, 2:6]).
    """
    images = _images(2)
    original = images.clone()
    scores = torch.stack([MAP_A, MAP_B])
    if flat:
        scores = scores.reshape(2, 16)
    mixed, source_mask, lam = _mix(images, scores, 2)

    expected = original.clone()
    expected[0, :, 0:4, 4:8] = original[1, :, 0:4, 0:4]
    expected[1, :, 4:8, 4:8] = original[0, :, 4:8, 2:6]
    assert torch.equal(mixed, expected)

    mask = torch.zeros(2, 16, dtype=torch.bool)
    mask[0, [2, 3, 6, 7]] = True
    mask[1, [10, 11, 14, 15]] = True
    assert source_mask.dtype == torch.bool
    assert torch.equal(source_mask, mask)
    assert int(source_mask.sum(1)[0]) == int(source_mask.sum(1)[1]) == 4
    assert lam == pytest.approx(1 - 4 / 16)
    assert torch.equal(images, original), 'input modified in place'


def test_mix_pixels_keep_raster_order():
    """A 1x2-cell window is pasted cell by cell, pixels in their order."""
    # S=2, r=1: sample 0's min cell is (1,1), sample 1's max cell is (0,1).
    scores = torch.tensor([[4., 3., 2., 1.], [0., 9., 5., 5.]])
    images = _images(2, c=1, h=4, w=4)
    mixed, mask, lam = _mix(images, scores, 1)
    assert torch.equal(mixed[0, 0, 2:4, 2:4], images[1, 0, 0:2, 2:4])
    # sample 1's min cell (0,0) receives sample 0's max cell (0,0)
    assert torch.equal(mixed[1, 0, 0:2, 0:2], images[0, 0, 0:2, 0:2])
    assert mask.tolist() == [[False, False, False, True],
                             [True, False, False, False]]
    assert lam == pytest.approx(0.75)
    # Every pixel outside the pasted cells is untouched.
    keep = torch.ones(2, 1, 4, 4, dtype=torch.bool)
    keep[0, :, 2:4, 2:4] = False
    keep[1, :, 0:2, 0:2] = False
    assert torch.equal(mixed[keep], images[keep])


def test_mix_ties_go_to_first_window():
    """Equal window sums resolve to the first window in raster order."""
    # All-equal scores: min and max are both corner (0,0).
    images = _images(2)
    mixed, mask, _ = _mix(images, torch.ones(2, 4, 4), 2)
    expected = images.clone()
    expected[0, :, 0:4, 0:4] = images[1, :, 0:4, 0:4]
    expected[1, :, 0:4, 0:4] = images[0, :, 0:4, 0:4]
    assert torch.equal(mixed, expected)
    assert mask[:, [0, 1, 4, 5]].all() and mask.sum() == 8
    # Map M: max sums tie at corners (0,2) and (2,0) (8 each), min sums tie
    # at (0,0) and (2,2) (-1 each). Sample 1 uses -M, swapping the roles.
    tie = torch.tensor([[0., 0., 2., 2.],
                        [0., -1., 2., 2.],
                        [2., 2., 0., 0.],
                        [2., 2., 0., -1.]])
    sums = window_sums(tie[None], 2)[0].tolist()
    assert sums == [-1., 3., 8., 3., 3., 4., 8., 4., -1.]
    images = _images(2)
    mixed, mask, _ = _mix(images, torch.stack([tie, -tie]), 2)
    # 0: min (0,0) -> pixels [0:4, 0:4] <- 1's max (0,0) (of -M)
    # 1: min (0,2) -> pixels [0:4, 4:8] <- 0's max (0,2) (of M)
    expected = images.clone()
    expected[0, :, 0:4, 0:4] = images[1, :, 0:4, 0:4]
    expected[1, :, 0:4, 4:8] = images[0, :, 0:4, 4:8]
    assert torch.equal(mixed, expected)
    assert mask[0].nonzero().flatten().tolist() == [0, 1, 4, 5]
    assert mask[1].nonzero().flatten().tolist() == [2, 3, 6, 7]


def test_mix_odd_batch_middle_pairs_with_itself():
    """With B=3, samples 0 and 2 swap content and sample 1 uses itself."""
    images = _images(3)
    scores = torch.stack([MAP_A, MAP_A, MAP_B])
    mixed, mask, _ = _mix(images, scores, 2)
    expected = images.clone()
    # 0 (map A, min [0:4,4:8]) <- 2 (map B, max [0:4,0:4])
    expected[0, :, 0:4, 4:8] = images[2, :, 0:4, 0:4]
    # 1 (map A) <- itself (map A, max [4:8, 2:6])
    expected[1, :, 0:4, 4:8] = images[1, :, 4:8, 2:6]
    # 2 (map B, min [4:8,4:8]) <- 0 (map A, max [4:8, 2:6])
    expected[2, :, 4:8, 4:8] = images[0, :, 4:8, 2:6]
    assert torch.equal(mixed, expected)
    assert mask.sum(1).tolist() == [4, 4, 4]


def test_mix_non_square_image():
    """H != W works when both are multiples of S (cells of 2x3 pixels)."""
    images = _images(2, c=1, h=8, w=12)
    mixed, mask, lam = _mix(
        images, torch.stack([MAP_A, MAP_B]), 2)
    expected = images.clone()
    # sample 0: min cells rows 0-1, cols 2-3 -> pixels [0:4, 6:12]
    #           <- sample 1 max cells rows 0-1, cols 0-1 -> pixels [0:4, 0:6]
    expected[0, :, 0:4, 6:12] = images[1, :, 0:4, 0:6]
    # sample 1: min cells rows 2-3, cols 2-3 -> pixels [4:8, 6:12]
    #           <- sample 0 max cells rows 2-3, cols 1-2 -> pixels [4:8, 3:9]
    expected[1, :, 4:8, 6:12] = images[0, :, 4:8, 3:9]
    assert torch.equal(mixed, expected)
    assert lam == pytest.approx(0.75)


@pytest.mark.parametrize('r', [1, 2, 3])
def test_lam_is_target_area_share(r):
    """lam = 1 - r^2 / S^2 and the mask has exactly r*r True per sample."""
    _, mask, lam = _mix(torch.rand(2, 1, 8, 8), torch.rand(2, 16), r)
    assert lam == pytest.approx(1 - r * r / 16)
    assert mask.sum(1).tolist() == [r * r, r * r]


def test_mix_errors():
    """Bad geometry raises ValueError with a useful message."""
    scores = torch.rand(2, 16)
    with pytest.raises(ValueError, match='not divisible'):
        max_min_region_mix(torch.rand(2, 1, 9, 8), scores, 2)
    with pytest.raises(ValueError, match='not divisible'):
        max_min_region_mix(torch.rand(2, 1, 8, 10), scores, 2)
    for r in (0, 5):
        with pytest.raises(ValueError, match='region_size'):
            max_min_region_mix(torch.rand(2, 1, 8, 8), scores, r)
    with pytest.raises(ValueError, match='square N'):
        max_min_region_mix(torch.rand(2, 1, 8, 8), torch.rand(2, 15), 2)
    with pytest.raises(ValueError, match='batch size'):
        max_min_region_mix(torch.rand(2, 1, 8, 8), torch.rand(3, 16), 2)
    with pytest.raises(ValueError, match='images'):
        max_min_region_mix(torch.rand(1, 8, 8), torch.rand(1, 16), 2)


# --------------------------------------------- official code as the oracle
def _official_batch_index_generate(x, idx):
    """smmix.py batch_index_generate, verbatim."""
    if len(x.size()) == 3:
        B, N, C = x.size()
        offset = torch.arange(
            B, dtype=torch.long, device=x.device).view(B, 1) * N
        idx = idx + offset
        return idx.reshape(-1)
    B, N = x.size()
    offset = torch.arange(B, dtype=torch.long, device=x.device).view(B, 1) * N
    return idx + offset


def _official_index_translate(rectangle_index, rectangle_size, token_size):
    """smmix.py SMMix.index_translate without the ``.cuda()``."""
    total_index = torch.arange(token_size[0] * token_size[1]).reshape(
        1, 1, token_size[0], token_size[1]).to(rectangle_index.device)
    total_index_list = F.unfold(
        total_index.float(), rectangle_size, stride=1).transpose(1, 2).long()
    return total_index_list.index_select(
        dim=1, index=rectangle_index).squeeze(0)


def _official_smmix(inputs, attn, rectangle_size, side):
    """smmix.py SMMix.smmix (unfold/fold), device-agnostic transcription."""
    inputs_side = inputs.shape[2]
    patch_size = inputs_side // side
    inputs = F.unfold(inputs, patch_size, stride=patch_size).transpose(1, 2)
    source_image = inputs.flip(0)
    attn = attn.reshape(-1, side, side).unsqueeze(1)
    rectangle_attn = F.unfold(attn, rectangle_size, stride=1).sum(dim=1)
    min_center = torch.argmin(rectangle_attn, dim=1)
    max_center = torch.argmax(rectangle_attn, dim=1)
    min_index = _official_index_translate(min_center, rectangle_size,
                                          (side, side))
    max_index = _official_index_translate(max_center, rectangle_size,
                                          (side, side))
    min_index = _official_batch_index_generate(inputs, min_index)
    max_index = _official_batch_index_generate(inputs, max_index.flip(0))
    B, N, C = inputs.shape
    inputs = inputs.reshape(B * N, C)
    source_image = source_image.reshape(B * N, C)
    inputs[min_index] = source_image[max_index]
    inputs = inputs.reshape(B, N, C)
    inputs = F.fold(inputs.transpose(1, 2), inputs_side, patch_size,
                    stride=patch_size)
    source_mask = torch.zeros_like(attn).bool().reshape(-1)
    source_mask[min_index] = True
    source_mask = source_mask.reshape(B, N)
    return inputs, ~source_mask, source_mask


def _assert_matches_official(images, scores, r, side):
    ref_mixed, ref_target, ref_source = _official_smmix(
        images.clone(), scores.clone(), (r, r), side)
    mixed, source_mask, lam = _mix(images, scores, r)
    assert torch.equal(mixed, ref_mixed)
    assert torch.equal(source_mask, ref_source)
    assert torch.equal(~source_mask, ref_target)
    # the official (S^2 - r^2) / S^2, to the bit
    assert lam == (side**2 - r * r) / side**2


def test_windows_and_targets_of_the_hand_example():
    """The windows the mix reports are the rectangles it pasted: sample 0's
    destination is cells rows 0-1, cols 2-3 (index 2 of the 3x3 positions
    of r=2), filled from sample 1's max window at (0, 0); sample 1's
    destination is rows 2-3, cols 2-3 (index 8), filled from sample 0's max
    window at rows 2-3, cols 1-2 (index 7)."""
    targets = torch.tensor([[1., 0., 0.], [0., 0.9, 0.1]])
    region = max_min_region_mix(_images(2), torch.stack([MAP_A, MAP_B]), 2,
                                targets)
    assert region.target_windows.tolist() == [2, 8]
    assert region.source_windows.tolist() == [7, 0]
    assert window_box(2, 4, 2) == (0, 2, 2, 4)
    assert window_box(8, 4, 2) == (2, 2, 4, 4)
    assert window_box(7, 4, 2) == (2, 1, 4, 3)
    for i, index in enumerate(region.target_windows.tolist()):
        top, left, bottom, right = window_box(index, 4, 2)
        box = torch.zeros(4, 4, dtype=torch.bool)
        box[top:bottom, left:right] = True
        assert torch.equal(region.source_mask[i], box.flatten())
    lam = 12 / 16  # (16 - 4) / 16 of each image is its own
    assert torch.allclose(region.targets[0], torch.tensor([lam, .9 * .25,
                                                          .1 * .25]))
    assert torch.allclose(region.targets[1], torch.tensor([.25, .9 * lam,
                                                          .1 * lam]))
    with pytest.raises(ValueError, match='out of range'):
        window_box(9, 4, 2)


def test_oracle_reproduces_hand_example():
    """The transcribed official code agrees with the hand-built example."""
    images = _images(2)
    mixed, _, source = _official_smmix(
        images.clone(), torch.stack([MAP_A, MAP_B]).reshape(2, 16), (2, 2), 4)
    expected = images.clone()
    expected[0, :, 0:4, 4:8] = images[1, :, 0:4, 0:4]
    expected[1, :, 4:8, 4:8] = images[0, :, 4:8, 2:6]
    assert torch.equal(mixed, expected)
    assert source[0].nonzero().flatten().tolist() == [2, 3, 6, 7]


@pytest.mark.parametrize('r', [1, 2, 3, 4, 5])
def test_bit_exact_with_official_7x7(r):
    """Random 7x7 attention, 28x28 one-channel images, B=4."""
    g = torch.Generator().manual_seed(r)
    images = torch.randn(4, 1, 28, 28, generator=g)
    scores = torch.rand(4, 49, generator=g).softmax(-1)
    _assert_matches_official(images, scores, r, 7)


@pytest.mark.parametrize('r', [1, 3, 5])
def test_bit_exact_with_official_many_ties(r):
    """Integer scores in {0,1,2} make many exactly tied windows."""
    g = torch.Generator().manual_seed(10 + r)
    images = torch.randn(6, 2, 14, 14, generator=g)
    scores = torch.randint(0, 3, (6, 49), generator=g).float()
    _assert_matches_official(images, scores, r, 7)
    # Constant maps: every window ties.
    _assert_matches_official(images, torch.zeros(6, 49), r, 7)
    # Tenths are inexact in float32: windows that tie mathematically differ
    # in the last bits depending on the summation order, which must be the
    # official one (unfold, then sum over the window).
    tenths = torch.randint(1, 4, (6, 49), generator=g).float() / 10
    _assert_matches_official(images, tenths, r, 7)


@pytest.mark.parametrize('r', [3, 7, 10])
def test_bit_exact_with_official_14x14_rgb(r):
    """DeiT geometry: 14x14 grid, 224x224 3-channel images, 16-px cells."""
    g = torch.Generator().manual_seed(100 + r)
    images = torch.randn(2, 3, 224, 224, generator=g)
    scores = torch.rand(2, 196, generator=g) / 196
    _assert_matches_official(images, scores, r, 14)
    ties = torch.randint(0, 2, (2, 196), generator=g).float()
    _assert_matches_official(images, ties, r, 14)
