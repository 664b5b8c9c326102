"""The FMix batch augment: per-image area equals the label weight, partner
pairing, odd batches, reproducible draws, registry."""
import pytest
import torch
from mmpretrain.registry import BATCH_AUGMENTS

import mmsmmix  # noqa: F401
from mmsmmix.models.augments import FMix


def _constant_images(batch, h=28, w=20):
    """Image i is the constant i + 1, so every pixel names its source."""
    return torch.arange(1, batch + 1).float().view(batch, 1, 1, 1).expand(
        batch, 3, h, w).clone()


@pytest.mark.parametrize('batch', [4, 5])
def test_area_equals_label_weight_per_image(batch):
    aug = FMix(alpha=1.0, seed=3)
    images = _constant_images(batch)
    score = torch.eye(batch)
    mixed, mixed_score = aug(images, score)
    own = (mixed[:, 0] == images[:, 0]).flatten(1).sum(1).float()
    area = aug.last_mask.sum().item()
    for i in range(batch):
        partner = batch - 1 - i
        if partner == i:  # odd batch: the middle image meets itself
            assert torch.equal(mixed[i], images[i])
            assert torch.allclose(mixed_score[i], score[i])
            continue
        assert own[i].item() == area  # exactly the mask's pixels
        lam = mixed_score[i, i].item()
        assert lam == pytest.approx(area / (28 * 20), abs=1e-6)
        assert mixed_score[i, partner].item() == pytest.approx(1 - lam)
    # Every channel uses the same mask.
    assert torch.equal(mixed[:, 0], mixed[:, 2])


def test_same_seed_same_masks_and_registry():
    a = BATCH_AUGMENTS.build(dict(type='FMix', alpha=0.5, seed=7))
    b = FMix(alpha=0.5, seed=7)
    images = torch.randn(4, 1, 16, 16)
    for _ in range(3):
        assert torch.equal(a(images, torch.eye(4))[0],
                           b(images, torch.eye(4))[0])
    assert 'alpha=0.5' in repr(a)
    with pytest.raises(ValueError, match='alpha must be finite'):
        FMix(alpha=float('nan'))
    with pytest.raises(ValueError, match='decay_power'):
        FMix(decay_power=0)
