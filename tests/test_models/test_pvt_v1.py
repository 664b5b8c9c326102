"""PVT-v1: official parameter names and sizes, outputs, and its probe."""
import pytest
import torch
import torch.nn.functional as F

import mmsmmix  # noqa: F401
from mmsmmix.models.probes import build_attention_probe
from tests.helpers import PVT_DEPTHS, official_pvt_keys, pvt_backbone

# Published sizes (PVT paper / release), classification head included.
PARAMS_M = dict(tiny=13.2, small=24.5, medium=44.2, large=61.4)


@pytest.mark.parametrize('arch', list(PVT_DEPTHS))
def test_official_key_names_and_published_sizes(arch):
    backbone = pvt_backbone(arch)
    assert list(backbone.state_dict()) == official_pvt_keys(PVT_DEPTHS[arch])
    head = 512 * 1000 + 1000
    params = sum(p.numel() for p in backbone.parameters()) + head
    assert params / 1e6 == pytest.approx(PARAMS_M[arch], rel=0.01)


def test_saved_state_dict_reloads_strictly(tmp_path):
    source = pvt_backbone('tiny')
    torch.save(source.state_dict(), tmp_path / 'pvt.pth')
    target = pvt_backbone('tiny')
    target.load_state_dict(
        torch.load(tmp_path / 'pvt.pth', weights_only=True), strict=True)
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        assert torch.equal(source(x)[0], target(x)[0])


def test_outputs_and_token_layout():
    backbone = pvt_backbone('tiny', out_type='raw')
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        tokens = backbone(x)[0]
        backbone.out_type = 'cls_token'
        cls = backbone(x)[0]
    assert tokens.shape == (2, 1 + 49, 512) and cls.shape == (2, 512)
    assert torch.equal(tokens[:, 0], cls)
    # The final norm is a LayerNorm over 512 channels (eps 1e-6).
    assert torch.allclose(tokens.mean(-1), torch.zeros(2, 50), atol=1e-4)


def test_other_input_sizes_resize_position_embeddings():
    """At 256 px the stage grids are 64/32/16/8; each stage's position
    embedding is resized bilinearly from its 224-px grid."""
    backbone = pvt_backbone('tiny', out_type='raw')
    seen = {}

    def keep(name, value):
        seen[name] = value  # returns None: the output stays as it is

    handles = [
        backbone.pos_drop2.register_forward_hook(
            lambda m, i, o: keep('x', i[0])),
        backbone.patch_embed2.register_forward_hook(
            lambda m, i, o: keep('tokens', o[0]))
    ]
    with torch.no_grad():
        out = backbone(torch.randn(1, 3, 256, 256))[0]
    for handle in handles:
        handle.remove()
    assert out.shape == (1, 1 + 64, 512)
    grid = backbone.pos_embed2.reshape(1, 28, 28, 128).permute(0, 3, 1, 2)
    expected = F.interpolate(grid, size=(32, 32), mode='bilinear')
    expected = expected.flatten(2).transpose(1, 2)
    assert torch.allclose(seen['x'] - seen['tokens'], expected, atol=1e-6)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="arch must be one of"):
        pvt_backbone('huge')
    with pytest.raises(ValueError, match='out_type'):
        pvt_backbone(out_type='featmap')


def _block_input(backbone, x):
    seen = []
    handle = backbone.block4[-1].register_forward_hook(
        lambda m, inputs, out: seen.append(inputs[0]))
    with torch.no_grad():
        backbone(x)
    handle.remove()
    return seen[0]


def test_probe_reads_last_stage4_block_as_by_hand():
    """softmax(q k^T / sqrt(64)) of the last stage-4 block, with q and k cut
    by hand from its ``q`` and ``kv`` weights (kv rows: [k | v], 8 heads of
    64 channels)."""
    backbone = pvt_backbone('tiny', out_type='raw')
    x = torch.randn(2, 3, 224, 224)
    probe = build_attention_probe(backbone)
    with torch.no_grad():
        plain = backbone(x)[0]
        with probe.capture() as record:
            captured = backbone(x)[0]
        after = backbone(x)[0]
    assert torch.equal(plain, captured) and torch.equal(plain, after)
    assert record.grid == (7, 7) and record.patch_size == (32, 32)
    assert record.num_extra_tokens == 1

    block = backbone.block4[-1]
    tokens = block.norm1(_block_input(backbone, x))  # (2, 50, 512)
    wq, bq = block.attn.q.weight, block.attn.q.bias
    wk, bk = block.attn.kv.weight[:512], block.attn.kv.bias[:512]
    with torch.no_grad():
        q = (tokens @ wq.T + bq).reshape(2, 50, 8, 64).transpose(1, 2)
        k = (tokens @ wk.T + bk).reshape(2, 50, 8, 64).transpose(1, 2)
        expected = torch.softmax(q @ k.transpose(-1, -2) / 8., dim=-1)
    assert record.attn.shape == (2, 8, 50, 50)
    assert torch.allclose(record.attn, expected, atol=1e-6)
    assert all(not m._forward_hooks for m in backbone.modules())


def test_probe_configured_layout():
    probe = build_attention_probe(pvt_backbone('tiny'))
    record, size = probe.configured_layout()
    assert size == (224, 224) and record.grid == (7, 7)
    assert record.patch_size == (32, 32)
