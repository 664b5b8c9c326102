"""Swin probe: each block's attention equals a recomputation by hand from
the block's own weights (windows, roll, relative bias and shift mask built
here, not taken from the probe or MMPretrain), its layout, the windows on
the grid, scores with several windows, and no side effects."""
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.models.backbones import SwinTransformer, SwinTransformerV2

import mmsmmix  # noqa: F401
import mmsmmix.models.probes.swin_probe  # noqa: F401  (registers it)
from mmsmmix.models.probes import build_attention_probe
from mmsmmix.ops import head_mean, window_attention_to_grid

TINY = dict(embed_dims=16, depths=[2, 2], num_heads=[2, 4])


def tiny_swin(img_size=28, **kwargs):
    """2-stage Swin, patch 2, window 7: grids 14 and 7 at 28 px (stage 1
    block 1 shifted by 3 over 2 x 2 windows), 28 and 14 at 56 px."""
    torch.manual_seed(0)
    model = SwinTransformer(arch=TINY, img_size=img_size, patch_size=2,
                            out_indices=(1, ), drop_path_rate=0., **kwargs)
    randomize_bias(model)
    model.eval()
    return model


def randomize_bias(model):
    """Non-zero relative position bias tables (they start at zero)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith('relative_position_bias_table'):
                p.normal_(0, 0.5)


def block_input(block, model, x):
    """(query, hw_shape) the block's ``attn`` received (its norm1 output)."""
    seen = {}

    def pre(module, inputs):
        seen['query'], seen['hw'] = inputs[0].detach(), tuple(inputs[1])

    handle = block.attn.register_forward_pre_hook(pre)
    with torch.no_grad():
        model(x)
    handle.remove()
    return seen['query'], seen['hw']


def own_bias(w_msa, window):
    """(heads, w², w²) bias gathered from the table by (dr + w - 1) *
    (2w - 1) + (dc + w - 1), dr/dc the query-minus-key offsets."""
    r, c = torch.meshgrid(torch.arange(window), torch.arange(window),
                          indexing='ij')
    r, c = r.flatten(), c.flatten()
    index = ((r[:, None] - r[None, :] + window - 1) * (2 * window - 1) +
             c[:, None] - c[None, :] + window - 1)
    return w_msa.relative_position_bias_table[index].permute(2, 0, 1)


def own_windows(x, hw, window, shift):
    """(B*nW, w², C): the map rolled by -shift, cut into windows ordered
    (image, window row, window column), tokens raster within a window."""
    b, _, c = x.shape
    h, w = hw
    x = torch.roll(x.view(b, h, w, c), (-shift, -shift), (1, 2))
    wins = [x[:, i:i + window, j:j + window].reshape(b, -1, c)
            for i in range(0, h, window) for j in range(0, w, window)]
    return torch.stack(wins, 1).flatten(0, 1)


def own_shift_mask(hw, window, shift):
    """(nW, w², w²) Swin's shift mask: regions [0, H-w), [H-w, H-s),
    [H-s, H) of the rolled map per axis; 0 within a region, -100 across."""
    def region(n):
        i = torch.arange(n)
        return (i >= n - window).long() + (i >= n - shift).long()

    label = region(hw[0])[:, None] * 3 + region(hw[1])[None, :]
    wins = own_windows(label.view(1, -1, 1).float(), hw, window, 0)[..., 0]
    same = wins[:, :, None] == wins[:, None, :]
    return torch.where(same, 0., -100.)


def own_attention(w_msa, windows, window, mask=None):
    """softmax(q k^T / sqrt(d) + bias (+ mask)) of a V1 ``WindowMSA``."""
    n, t, c = windows.shape
    heads = w_msa.num_heads
    qkv = (windows @ w_msa.qkv.weight.T + w_msa.qkv.bias).view(
        n, t, 3, heads, c // heads).permute(2, 0, 3, 1, 4)
    q, k = qkv[0], qkv[1]
    logits = (q * (c // heads)**-0.5) @ k.transpose(-2, -1)
    logits = logits + own_bias(w_msa, window)
    if mask is not None:
        logits = (logits.view(-1, mask.shape[0], heads, t, t) +
                  mask[None, :, None]).view(n, heads, t, t)
    return logits.softmax(-1)


def test_swin_t_last_block_is_full_49_token_attention():
    torch.manual_seed(0)
    model = SwinTransformer(arch='tiny', drop_path_rate=0.)
    randomize_bias(model)
    model.eval()
    probe = build_attention_probe(model)
    assert type(probe).__name__ == 'SwinAttentionProbe'
    layout, input_size = probe.configured_layout()
    assert (layout.grid, layout.patch_size, layout.window, layout.shift,
            layout.num_extra_tokens, layout.class_token, input_size) == (
                (7, 7), (32, 32), (7, 7), (0, 0), 0, False, (224, 224))
    x = torch.randn(2, 3, 224, 224)
    block = model.stages[-1].blocks[-1]
    query, hw = block_input(block, model, x)
    with torch.no_grad(), probe.capture('patch') as record:
        model(x)
    assert record.attn.shape == (2, 24, 49, 49)
    assert record.attn.dtype == torch.float32
    assert (record.grid, record.patch_size, record.window, record.shift,
            record.blocks) == ((7, 7), (32, 32), (7, 7), (0, 0), [])
    with torch.no_grad():
        expected = own_attention(block.attn.w_msa, query, 7)  # 1 window
    torch.testing.assert_close(record.attn, expected)


def test_shifted_block_and_its_windows_on_the_grid():
    model = tiny_swin(28)
    x = torch.randn(2, 3, 28, 28)
    block = model.stages[0].blocks[1]  # 14 x 14 grid, 2 x 2 windows
    query, hw = block_input(block, model, x)
    assert hw == (14, 14)
    probe = build_attention_probe(model)
    with torch.no_grad(), probe.capture(blocks='all') as record:
        model(x)
    got = record.blocks[1]
    assert (got.grid, got.patch_size, got.window, got.shift) == (
        (14, 14), (2, 2), (7, 7), (3, 3))
    with torch.no_grad():
        expected = own_attention(block.attn.w_msa,
                                 own_windows(query, hw, 7, 3), 7,
                                 own_shift_mask(hw, 7, 3))
    assert got.attn.shape == (2 * 4, 2, 49, 49)
    torch.testing.assert_close(got.attn, expected)
    # the mask really cuts: window 3 mixes 4 regions
    assert (expected[3, :, 48, 0] < 1e-30).all()

    grid = window_attention_to_grid(got.attn, (14, 14), (7, 7), (3, 3))
    attn = got.attn.view(2, 4, 2, 49, 49)

    def pos(r, c):  # image token at rolled (r, c): rolled by -3
        return (r + 3) % 14 * 14 + (c + 3) % 14

    # window 0 (top left of the rolled map): query rolled (0, 0) = image
    # (3, 3), key rolled (1, 2) = image (4, 5)
    assert pos(0, 0) == 45 and pos(1, 2) == 61
    torch.testing.assert_close(grid[:, :, 45, 61], attn[:, 0, :, 0, 9])
    # window 3 (wrapped): query rolled (13, 13) = image (2, 2), keys rolled
    # (7, 7) = image (10, 10) (masked) and (12, 12) = image (1, 1)
    assert (pos(13, 13), pos(7, 7), pos(12, 12)) == (30, 150, 15)
    torch.testing.assert_close(grid[:, :, 30, 150], attn[:, 3, :, 48, 0])
    torch.testing.assert_close(grid[:, :, 30, 15], attn[:, 3, :, 48, 40])
    assert (grid[:, :, 45, 30] == 0).all()  # other window
    torch.testing.assert_close(grid.sum(-1), torch.ones(2, 2, 196))


def no_hooks(model):
    return all(not (m._forward_hooks or m._forward_pre_hooks)
               for m in model.modules())


def test_outputs_unchanged_and_no_hooks_left():
    model = tiny_swin(28)
    x = torch.randn(2, 3, 28, 28)
    probe = build_attention_probe(model)
    with torch.no_grad():
        before = model(x)
        for blocks in ('last', 'all'):
            with probe.capture(blocks=blocks, reduce=None) as record:
                inside = model(x)
                assert not no_hooks(model)
            assert record.attn is not None
            assert no_hooks(model)
            after = model(x)
            for a, b, c in zip(before, inside, after):
                assert torch.equal(a, b) and torch.equal(a, c)


def test_all_blocks_head_mean():
    model = tiny_swin(28)
    x = torch.randn(2, 3, 28, 28)
    probe = build_attention_probe(model)
    with torch.no_grad():
        with probe.capture(blocks='all') as full:
            model(x)
        with probe.capture(blocks='all', reduce=head_mean) as reduced:
            model(x)
    assert len(full.blocks) == len(reduced.blocks) == sum(TINY['depths'])
    windows = [8, 8, 2, 2]  # B * nW: 2 x 2 windows, then one
    for n, a, b in zip(windows, full.blocks, reduced.blocks):
        assert a.attn.dim() == 4 and b.attn.dim() == 3
        assert b.attn.shape == (n, 49, 49)
        torch.testing.assert_close(b.attn, a.attn.mean(1))
        assert (a.grid, a.window, a.shift) == (b.grid, b.window, b.shift)
    assert [b.shift for b in reduced.blocks] == [(0, 0), (3, 3), (0, 0),
                                                 (0, 0)]
    assert [b.patch_size for b in reduced.blocks] == [(2, 2)] * 2 + [
        (4, 4)] * 2
    torch.testing.assert_close(reduced.attn, reduced.blocks[-1].attn)


def test_scores_with_several_last_stage_windows():
    model = tiny_swin(56)  # last stage: 14 x 14 grid, 2 x 2 windows
    probe = build_attention_probe(model)
    layout, _ = probe.configured_layout()
    assert (layout.grid, layout.patch_size, layout.window, layout.shift) == (
        (14, 14), (4, 4), (7, 7), (3, 3))
    x = torch.randn(2, 3, 56, 56)
    with torch.no_grad(), probe.capture('patch') as record:
        model(x)
    assert record.attn.shape == (2 * 4, 4, 49, 49)
    assert (record.grid, record.window, record.shift) == (
        (14, 14), (7, 7), (3, 3))
    # a token's score: its column mean within its window (over heads and
    # the window's 49 queries) times the window's share of queries, 49/196
    col = record.attn.view(2, 4, 4, 49, 49).mean(dim=(2, 3))  # (B, nW, 49)
    expected = torch.zeros(2, 196)
    for win in range(4):
        for j in range(49):
            r = (win // 2 * 7 + j // 7 + 3) % 14
            c = (win % 2 * 7 + j % 7 + 3) % 14
            expected[:, r * 14 + c] = col[:, win, j] * 49 / 196
    for stat in ('patch', 'pooled'):
        torch.testing.assert_close(record.scores(stat), expected)
    torch.testing.assert_close(expected.sum(1), torch.ones(2))


@pytest.mark.filterwarnings('ignore:torch.utils.checkpoint')
def test_with_cp_reruns_in_backward_are_not_read():
    model = tiny_swin(28, with_cp=True)
    x = torch.randn(2, 3, 28, 28)
    probe = build_attention_probe(model)
    with torch.no_grad(), probe.capture(blocks='all') as plain:
        model(x)
    with probe.capture(blocks='all') as record:
        out = model(x)
        out[0].sum().backward()
    assert len(record.blocks) == len(plain.blocks) == 4
    for a, b in zip(record.blocks, plain.blocks):
        assert (a.grid, a.shift) == (b.grid, b.shift)
        torch.testing.assert_close(a.attn, b.attn)
        assert not a.attn.requires_grad
    assert record.grid == (7, 7)


def test_pad_small_map_keeps_window_and_shift():
    # patch 4 at 28 px: grids 7 (= window) and 4 (< window, padded to 7)
    torch.manual_seed(0)
    model = SwinTransformer(arch=TINY, img_size=28, patch_size=4,
                            out_indices=(1, ), drop_path_rate=0.,
                            pad_small_map=True)
    model.eval()
    probe = build_attention_probe(model)
    layout, _ = probe.configured_layout()
    assert (layout.grid, layout.window, layout.shift) == ((4, 4), (7, 7),
                                                          (3, 3))
    with torch.no_grad(), probe.capture(blocks='all') as record:
        model(torch.randn(1, 3, 28, 28))
    assert [(b.grid, b.window, b.shift) for b in record.blocks] == [
        ((7, 7), (7, 7), (0, 0)), ((7, 7), (7, 7), (3, 3)),
        ((4, 4), (7, 7), (0, 0)), ((4, 4), (7, 7), (3, 3))]
    assert record.attn.shape == (1, 4, 49, 49)
    assert record.grid_attn().shape == (1, 4, 16, 16)


def test_swin_v2_cosine_attention():
    torch.manual_seed(0)
    model = SwinTransformerV2(
        arch=dict(TINY, extra_norm_every_n_blocks=0), img_size=32,
        patch_size=2, window_size=8, out_indices=(1, ),
        drop_path_rate=0.)
    model.eval()
    probe = build_attention_probe(model)
    assert type(probe).__name__ == 'SwinAttentionProbe'
    layout, input_size = probe.configured_layout()
    assert (layout.grid, layout.patch_size, layout.window, layout.shift,
            input_size) == ((8, 8), (4, 4), (8, 8), (0, 0), (32, 32))
    x = torch.randn(2, 3, 32, 32)
    block = model.stages[-1].blocks[-1]  # merges first: 8 x 8, one window
    query, hw = block_input(block, model, x)
    with torch.no_grad(), probe.capture(blocks='all') as record:
        model(x)
    assert [(b.grid, b.patch_size, b.shift) for b in record.blocks] == [
        ((16, 16), (2, 2), (0, 0)), ((16, 16), (2, 2), (4, 4)),
        ((8, 8), (4, 4), (0, 0)), ((8, 8), (4, 4), (0, 0))]
    w = block.attn.w_msa
    with torch.no_grad():
        b, t, c = query.shape
        bias = torch.cat([w.q_bias, torch.zeros_like(w.v_bias), w.v_bias])
        qkv = F.linear(query, w.qkv.weight, bias).view(
            b, t, 3, 4, c // 4).permute(2, 0, 3, 1, 4)
        q, k = F.normalize(qkv[0], dim=-1), F.normalize(qkv[1], dim=-1)
        logits = q @ k.transpose(-2, -1) * w.logit_scale.clamp(
            max=torch.log(torch.tensor(100.))).exp()
        table = w.cpb_mlp(w.relative_coords_table).view(-1, 4)
        r, cc = torch.meshgrid(torch.arange(8), torch.arange(8),
                               indexing='ij')
        r, cc = r.flatten(), cc.flatten()
        index = ((r[:, None] - r[None, :] + 7) * 15 + cc[:, None] -
                 cc[None, :] + 7)
        logits = logits + 16 * torch.sigmoid(table[index].permute(2, 0, 1))
        expected = logits.softmax(-1)
    assert record.attn.shape == (2, 4, 64, 64)
    torch.testing.assert_close(record.attn, expected)
