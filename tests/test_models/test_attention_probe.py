"""Tests of the last-block attention probe on a real mmpretrain ViT."""
import pytest
import torch
from mmpretrain.registry import MODELS

import mmsmmix  # noqa: F401
from mmsmmix.models.probes import AttentionRecord, build_attention_probe
from mmsmmix.ops import head_mean
from tests.helpers import tiny_vit_cfg


@pytest.fixture
def vit():
    backbone = MODELS.build(tiny_vit_cfg())
    backbone.init_weights()
    backbone.eval()  # mmpretrain's ViT.train() does not return self
    return backbone


def _all_hooks(module):
    return sum(
        len(m._forward_hooks) + len(m._forward_pre_hooks)
        for m in module.modules())


def _last_layer_input(backbone, x):
    """Input of layers[-1], taken with our own forward hook."""
    seen = {}
    handle = backbone.layers[-1].register_forward_hook(
        lambda m, inputs, out: seen.setdefault('x', inputs[0].detach()))
    try:
        with torch.no_grad():
            backbone(x)
    finally:
        handle.remove()
    return seen['x']


def _hand_probs(layer, x):
    """softmax(q k^T / sqrt(d)) of one block on its input ``x``, by hand,
    and its values.

    qkv output channels are laid out [q | k | v], each split into heads
    of ``head_dim`` consecutive channels.
    """
    tokens = layer.ln1(x)
    b, t, dim = tokens.shape
    heads = layer.attn.num_heads
    hd = dim // heads
    with torch.no_grad():
        qkv = layer.attn.qkv(tokens)
    q = qkv[..., :dim].reshape(b, t, heads, hd).transpose(1, 2)
    k = qkv[..., dim:2 * dim].reshape(b, t, heads, hd).transpose(1, 2)
    v = qkv[..., 2 * dim:].reshape(b, t, heads, hd).transpose(1, 2)
    attn = torch.softmax(q @ k.transpose(-1, -2) / hd**0.5, dim=-1)
    return attn, v


def _hand_attention(backbone, x):
    """The last block's attention and values, by hand."""
    return _hand_probs(backbone.layers[-1], _last_layer_input(backbone, x))


def test_captured_attention_matches_hand_recomputation(vit):
    """The record holds softmax(qk^T/sqrt(d)) of the last block, 7x7 grid."""
    x = torch.randn(2, 1, 28, 28)
    probe = build_attention_probe(vit)
    with torch.no_grad(), probe.capture() as record:
        vit(x)
    assert isinstance(record, AttentionRecord)
    assert record.grid == (7, 7)
    assert record.num_extra_tokens == 1
    assert record.attn.shape == (2, 4, 50, 50)
    assert record.attn.dtype == torch.float32
    expected, _ = _hand_attention(vit, x)
    assert torch.allclose(record.attn, expected, atol=1e-6)
    assert torch.allclose(record.attn.sum(-1), torch.ones(2, 4, 50),
                          atol=1e-5)


def test_hand_attention_is_what_the_block_used(vit):
    """attn @ v through proj equals the real attention module's output.

    This ties the recomputed probabilities (and so the probe) to the fused
    attention the backbone actually ran.
    """
    x = torch.randn(2, 1, 28, 28)
    out = {}
    handle = vit.layers[-1].attn.register_forward_hook(
        lambda m, i, o: out.setdefault('y', o.detach()))
    with torch.no_grad():
        vit(x)
    handle.remove()
    attn, v = _hand_attention(vit, x)
    b, heads, t, hd = v.shape
    with torch.no_grad():
        y = vit.layers[-1].attn.proj(
            (attn @ v).transpose(1, 2).reshape(b, t, heads * hd))
    assert torch.allclose(y, out['y'], atol=1e-5)


def test_outputs_unchanged_and_hooks_removed(vit):
    """Capturing changes nothing in the outputs and leaves no hook behind."""
    x = torch.randn(2, 1, 28, 28)
    assert _all_hooks(vit) == 0
    with torch.no_grad():
        plain = vit(x)
        with build_attention_probe(vit).capture() as record:
            captured = vit(x)
    assert record.attn is not None
    assert len(plain) == len(captured)
    for a, b in zip(plain, captured):
        assert torch.equal(a, b)
    assert _all_hooks(vit) == 0
    assert not vit.layers[-1].attn._forward_hooks
    assert not vit.patch_embed._forward_hooks


def test_hooks_removed_on_error(vit):
    """An exception inside capture() still removes the hooks."""
    with pytest.raises(RuntimeError, match='boom'):
        with build_attention_probe(vit).capture():
            assert _all_hooks(vit) > 0
            raise RuntimeError('boom')
    assert _all_hooks(vit) == 0


def test_nothing_recorded_outside_capture(vit):
    """A record is only filled by forwards run inside the context."""
    probe = build_attention_probe(vit)
    with probe.capture() as record:
        pass
    with torch.no_grad():
        vit(torch.randn(1, 1, 28, 28))
    assert record.attn is None and record.grid is None


def test_grid_follows_input_size():
    """A 20x28 input gives a 5x7 grid and 1+35 tokens."""
    vit = MODELS.build(tiny_vit_cfg(img_size=(20, 28)))
    vit.eval()
    with torch.no_grad(), build_attention_probe(vit).capture() as record:
        vit(torch.randn(1, 1, 20, 28))
    assert record.grid == (5, 7)
    assert record.attn.shape == (1, 4, 36, 36)


def test_non_vit_backbone_raises_type_error():
    """A ResNet has no readable attention: TypeError naming its type."""
    resnet = MODELS.build(dict(type='ResNet', depth=18))
    with pytest.raises(TypeError, match='ResNet'):
        build_attention_probe(resnet)
    with pytest.raises(TypeError, match='Linear'):
        build_attention_probe(torch.nn.Linear(2, 2))


def _layer_inputs(backbone, x):
    """Every layer's input, taken with our own forward pre-hooks."""
    seen = []
    handles = [
        layer.register_forward_pre_hook(
            lambda m, inputs: seen.append(inputs[0].detach()))
        for layer in backbone.layers
    ]
    try:
        with torch.no_grad():
            backbone(x)
    finally:
        for handle in handles:
            handle.remove()
    return seen


def test_all_block_capture_with_head_mean(vit):
    """blocks='all' with reduce=head_mean keeps one (B, T, T) head mean per
    block, in forward order, equal to a by-hand recomputation from each
    block's own weights; the record itself is the last block's."""
    x = torch.randn(2, 1, 28, 28)
    probe = build_attention_probe(vit)
    with torch.no_grad(), probe.capture(blocks='all',
                                        reduce=head_mean) as record:
        vit(x)
        vit(x)  # a second forward replaces the first's blocks
    assert len(record.blocks) == len(vit.layers) == 2
    for layer, inputs, block in zip(vit.layers, _layer_inputs(vit, x),
                                    record.blocks):
        assert block.attn.shape == (2, 50, 50)  # reduced, no head axis
        assert block.grid == (7, 7) and block.num_extra_tokens == 1
        hand, _ = _hand_probs(layer, inputs)
        assert torch.allclose(block.attn, hand.mean(1), atol=1e-6)
    assert record.attn is record.blocks[-1].attn


def test_all_block_capture_full_maps_and_bad_blocks(vit):
    """Without reduce, every block's full (B, heads, T, T) map; the last
    equals the single-block capture; an unknown ``blocks`` is refused."""
    x = torch.randn(1, 1, 28, 28)
    probe = build_attention_probe(vit)
    with torch.no_grad(), probe.capture(blocks='all') as every, \
            probe.capture() as last:
        vit(x)
    assert [b.attn.shape for b in every.blocks] == [(1, 4, 50, 50)] * 2
    assert torch.equal(every.blocks[-1].attn, last.attn)
    assert last.blocks == []
    with pytest.raises(ValueError, match="'last', 'all'"):
        with probe.capture(blocks='first'):
            pass
