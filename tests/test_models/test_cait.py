"""CaiT backbone (timm) and its probe: both statistics against a by-hand
recomputation from the blocks' own weights; outputs unchanged."""
import pytest
import torch
from mmpretrain.registry import MODELS

import mmsmmix  # noqa: F401
from mmsmmix.models.probes import build_attention_probe

HEADS, DIMS = 4, 192


@pytest.fixture(scope='module')
def cait():
    torch.manual_seed(0)
    backbone = MODELS.build(dict(type='CaiT', arch='xxs24'))
    backbone.eval()
    return backbone


def _inputs_of(module, backbone, x):
    seen = []
    handle = module.register_forward_hook(
        lambda m, inputs, out: seen.append(inputs))
    with torch.no_grad():
        backbone(x)
    handle.remove()
    return seen[0]


def _mix_heads(scores, linear):
    """Apply a talking-heads Linear over the head axis of (B, H, Q, T)."""
    return torch.einsum('bhqt,gh->bgqt', scores, linear.weight) + \
        linear.bias[None, :, None, None]


@pytest.mark.slow  # CaiT-XXS24 at 224 px, by hand
def test_patch_statistic_is_mixed_self_attention(cait):
    x = torch.randn(2, 3, 224, 224)
    probe = build_attention_probe(cait)
    with torch.no_grad():
        plain = cait(x)[0]
        with probe.capture('patch') as record:
            captured = cait(x)[0]
        after = cait(x)[0]
    assert torch.equal(plain, captured) and torch.equal(plain, after)
    assert plain.shape == (2, 197, DIMS)
    assert record.grid == (14, 14) and record.patch_size == (16, 16)
    assert record.num_extra_tokens == 0

    block = cait.model.blocks[-1]
    (x_in, ) = _inputs_of(block, cait, x)  # (2, 196, 192): patches only
    with torch.no_grad():
        t = block.norm1(x_in)
        qkv = t @ block.attn.qkv.weight.T + block.attn.qkv.bias
        q, k = (qkv[..., i * DIMS:(i + 1) * DIMS].reshape(
            2, 196, HEADS, DIMS // HEADS).transpose(1, 2) for i in (0, 1))
        scores = q @ k.transpose(-1, -2) * (DIMS // HEADS)**-0.5
        mixed = _mix_heads(scores, block.attn.proj_l).softmax(dim=-1)
        expected = _mix_heads(mixed, block.attn.proj_w)
    assert record.attn.shape == (2, HEADS, 196, 196)
    assert torch.allclose(record.attn, expected, atol=1e-5)


@pytest.mark.slow
def test_cls_statistic_is_last_class_attention_row(cait):
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad(), build_attention_probe(cait).capture('cls') as rec:
        cait(x)
    assert rec.num_extra_tokens == 1 and rec.grid == (14, 14)
    block = cait.model.blocks_token_only[-1]
    x_in, x_cls = _inputs_of(block, cait, x)
    with torch.no_grad():
        t = block.norm1(torch.cat([x_cls, x_in], dim=1))  # (2, 197, 192)
        q = (t[:, :1] @ block.attn.q.weight.T + block.attn.q.bias)
        k = (t @ block.attn.k.weight.T + block.attn.k.bias)
        q = q.reshape(2, 1, HEADS, 48).transpose(1, 2)
        k = k.reshape(2, 197, HEADS, 48).transpose(1, 2)
        expected = (q @ k.transpose(-1, -2) / 48**0.5).softmax(dim=-1)
    assert rec.attn.shape == (2, HEADS, 1, 197)
    assert torch.allclose(rec.attn, expected, atol=1e-6)
    assert all(not m._forward_hooks for m in cait.modules())


def test_layout_and_arguments(cait):
    record, size = build_attention_probe(cait).configured_layout()
    assert size == (224, 224) and record.grid == (14, 14)
    cls_only = MODELS.build(dict(type='CaiT', out_type='cls_token'))
    cls_only.load_state_dict(cait.state_dict())
    cls_only.eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        assert torch.equal(cls_only(x)[0], cait(x)[0][:, 0])
    with pytest.raises(ValueError, match='arch must be one of'):
        MODELS.build(dict(type='CaiT', arch='s24'))
