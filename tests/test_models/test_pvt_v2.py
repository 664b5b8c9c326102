"""PVT-v2 backbone (timm) and its probe: the recorded attention against a
by-hand recomputation from the blocks' own weights, which also reproduces
the attention module's output; outputs unchanged; timm's stage maps."""
import time

import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS

import mmsmmix  # noqa: F401
from mmsmmix.models.probes import build_attention_probe
from mmsmmix.ops import head_mean

#: A PVT-v2 for 28-px one-channel images: one stage, 7x7 tokens of 4 px.
TINY_28 = dict(depths=(4, ), embed_dims=(64, ), num_heads=(4, ),
               sr_ratios=(1, ), mlp_ratios=(4, ))


@pytest.fixture(scope='module', autouse=True)
def registered():
    """Register the probe when these tests run, not at collection (until
    the probes' builder imports it, test_probe_registry counts the probes
    registered)."""
    import mmsmmix.models.probes.pvt_v2_probe  # noqa: F401


def _build(arch, **kwargs):
    torch.manual_seed(0)
    backbone = MODELS.build(
        dict(type='PyramidVisionTransformerV2', arch=arch, **kwargs))
    backbone.eval()  # BaseBackbone.train returns None: no chaining
    return backbone


@pytest.fixture(scope='module')
def b0():
    return _build('b0')


def _no_hooks(module):
    return all(not m._forward_hooks and not m._forward_pre_hooks
               for m in module.modules())


def _watch(module):
    """A forward hook keeping the (x_normed, feat_size) inputs and the
    output of ``module``'s forwards; returns (seen, handle)."""
    seen = []
    handle = module.register_forward_hook(
        lambda m, inputs, out: seen.append((inputs, out)))
    return seen, handle


def _by_hand(attn, x, feat_size):
    """softmax(q k^T / sqrt(d)) and values from the module's weights."""
    b, n, c = x.shape
    heads = attn.num_heads
    d = c // heads
    q = F.linear(x, attn.q.weight, attn.q.bias)
    src = x
    if attn.pool is not None:  # linear SRA: pool 7, conv 1x1, LN, GELU
        grid = x.transpose(1, 2).reshape(b, c, *feat_size)
        grid = F.conv2d(F.adaptive_avg_pool2d(grid, 7), attn.sr.weight,
                        attn.sr.bias)
        src = F.gelu(F.layer_norm(grid.flatten(2).transpose(1, 2), (c, ),
                                  attn.norm.weight, attn.norm.bias,
                                  attn.norm.eps))
    kv = F.linear(src, attn.kv.weight, attn.kv.bias)
    k, v = kv[..., :c], kv[..., c:]

    def split(t):
        return t.reshape(b, -1, heads, d).transpose(1, 2)

    probs = (split(q) @ split(k).transpose(-1, -2) / d**0.5).softmax(-1)
    return probs, split(v)


@pytest.mark.slow  # PVT-v2-b2 at 224 px, by hand (~15 s each on 2 cores)
@pytest.mark.parametrize('arch,batch', [('b2', 2), ('b2_li', 1)])
def test_last_block_attention_is_the_one_used(arch, batch):
    backbone = _build(arch)
    attn = backbone.model.stages[-1].blocks[-1].attn
    # b2: sr 1 (no reduction); b2_li: 7x7 pool, 1x1 conv, LN, GELU
    assert (attn.pool is None and attn.sr is None) == (arch == 'b2')
    x = torch.randn(batch, 3, 224, 224)
    probe = build_attention_probe(backbone)
    seen, handle = _watch(attn)  # the test's own hook, not the probe's
    with torch.no_grad():
        plain = backbone(x)
        handle.remove()
        with probe.capture('pooled') as record:
            captured = backbone(x)
        after = backbone(x)
    assert torch.equal(plain[0], captured[0])
    assert torch.equal(plain[0], after[0])
    assert _no_hooks(backbone)
    assert plain[0].shape == (batch, 512, 7, 7)
    assert record.grid == (7, 7) and record.patch_size == (32, 32)
    assert record.num_extra_tokens == 0 and not record.class_token
    assert not probe.class_token
    assert record.attn.shape == (batch, 8, 49, 49)
    assert record.attn.dtype == torch.float32

    (x_in, feat_size), out = seen[0]
    assert tuple(feat_size) == (7, 7)
    with torch.no_grad():
        expected, v = _by_hand(attn, x_in, feat_size)
        mixed = (record.attn @ v).transpose(1, 2).reshape(batch, 49, 512)
        reproduced = F.linear(mixed, attn.proj.weight, attn.proj.bias)
    assert torch.allclose(record.attn, expected, atol=1e-6)
    assert torch.allclose(reproduced, out, atol=1e-5)


def test_all_block_capture_with_head_mean(b0):
    x = torch.randn(2, 3, 224, 224)
    probe = build_attention_probe(b0)
    with torch.no_grad():
        with probe.capture(blocks='all') as full:
            b0(x)
        with probe.capture(blocks='all', reduce=head_mean) as reduced:
            b0(x)
    depth = len(b0.model.stages[-1].blocks)
    assert len(full.blocks) == len(reduced.blocks) == depth == 2
    for whole, mean in zip(full.blocks, reduced.blocks):
        assert whole.attn.shape == (2, 8, 49, 49)
        assert mean.attn.shape == (2, 49, 49) and mean.grid == (7, 7)
        assert torch.equal(mean.attn, whole.attn.mean(dim=1))
    assert torch.equal(reduced.attn, reduced.blocks[-1].attn)
    assert _no_hooks(b0)


def test_stage_maps_equal_timm_forward_features(b0):
    import timm
    reference = timm.create_model('pvt_v2_b0', pretrained=False,
                                  num_classes=0)
    reference.load_state_dict(b0.model.state_dict())
    reference.eval()
    every = _build('b0', out_indices=(0, 1, 2, -1))
    every.model.load_state_dict(b0.model.state_dict())
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        maps = every(x)
        last = b0(x)
        features = reference.forward_features(x)
        intermediates = reference.forward_intermediates(
            x, intermediates_only=True)
    assert [tuple(m.shape) for m in maps] == [(1, 32, 56, 56),
                                              (1, 64, 28, 28),
                                              (1, 160, 14, 14),
                                              (1, 256, 7, 7)]
    assert len(last) == 1 and torch.equal(last[0], features)
    for mine, theirs in zip(maps, intermediates):
        assert torch.equal(mine, theirs)


def test_parameter_names_under_backbone_model():
    import timm
    classifier = MODELS.build(
        dict(type='ImageClassifier',
             backbone=dict(type='PyramidVisionTransformerV2', arch='b0'),
             neck=dict(type='GlobalAveragePooling'),
             head=dict(type='LinearClsHead', num_classes=10,
                       in_channels=256)))
    names = [k for k in classifier.state_dict() if k.startswith('backbone.')]
    timm_names = list(timm.create_model('pvt_v2_b0',
                                        num_classes=0).state_dict())
    assert names == ['backbone.model.' + k for k in timm_names]
    assert 'backbone.model.stages.3.blocks.1.attn.kv.weight' in names


def test_arch_errors_name_the_choices():
    with pytest.raises(ValueError, match=r"\['b0', 'b1', 'b2', 'b2_li'"):
        MODELS.build(dict(type='PyramidVisionTransformerV2', arch='b9'))
    with pytest.raises(ValueError, match='sr_ratios.*timm default'):
        MODELS.build(dict(type='PyramidVisionTransformerV2',
                          arch=dict(depths=(2, ), embed_dims=(32, ),
                                    num_heads=(1, ), mlp_ratios=(4, ))))
    with pytest.raises(ValueError, match="'depth'"):
        MODELS.build(dict(type='PyramidVisionTransformerV2',
                          arch=dict(depth=(2, ))))
    with pytest.raises(ValueError, match='out of range for 1 stages'):
        MODELS.build(dict(type='PyramidVisionTransformerV2', arch=TINY_28))


def test_probe_found_by_type(b0):
    from mmsmmix.models.probes.pvt_v2_probe import PVTv2AttentionProbe
    assert type(build_attention_probe(b0)) is PVTv2AttentionProbe


def test_refuses_last_stage_keys_that_are_not_tokens():
    reduced = _build(dict(TINY_28, sr_ratios=(2, )), out_indices=-1)
    with pytest.raises(ValueError, match='sr_ratio > 1'):
        with build_attention_probe(reduced).capture():
            pass
    pooled = _build(dict(TINY_28, linear=True), out_indices=-1)
    with pytest.raises(ValueError, match=r'pools its \(14, 14\) grid'):
        with torch.no_grad(), build_attention_probe(pooled).capture():
            pooled(torch.randn(1, 3, 56, 56))
    assert _no_hooks(pooled)


def test_tiny_28px_model_has_a_7x7_last_stage():
    backbone = _build(TINY_28, in_channels=1, out_indices=-1)
    x = torch.randn(64, 1, 28, 28)
    with torch.no_grad():
        start = time.perf_counter()
        with build_attention_probe(backbone).capture() as record:
            (out, ) = backbone(x)
        elapsed = time.perf_counter() - start
    assert out.shape == (64, 64, 7, 7)
    assert record.grid == (7, 7) and record.patch_size == (4, 4)
    assert record.attn.shape == (64, 4, 49, 49)
    print(f'tiny 28-px PVT-v2 forward, batch 64: {elapsed * 1e3:.0f} ms')


def test_configured_layout_follows_img_size():
    """The last-stage grid at the configured size, by the strided patch
    embeddings' arithmetic: 224 -> 56, 28, 14, 7 (b0); a one-stage model
    at 28 px -> 7; no img_size, no configured layout."""
    from mmsmmix.models.backbones import PyramidVisionTransformerV2
    from mmsmmix.models.probes import build_attention_probe
    record, size = build_attention_probe(
        PyramidVisionTransformerV2('b0')).configured_layout()
    assert (record.grid, record.patch_size, size) == ((7, 7), (32, 32),
                                                      (224, 224))
    assert not record.class_token and record.num_extra_tokens == 0
    tiny = PyramidVisionTransformerV2(
        dict(depths=(1, ), embed_dims=(32, ), num_heads=(1, ),
             sr_ratios=(1, ), mlp_ratios=(2, )),
        in_channels=1, out_indices=-1, img_size=28)
    record, size = build_attention_probe(tiny).configured_layout()
    assert (record.grid, record.patch_size, size) == ((7, 7), (4, 4),
                                                      (28, 28))
    assert build_attention_probe(PyramidVisionTransformerV2(
        'b0', img_size=None)).configured_layout() is None
