"""tools/model_converters/mmsmmix2dense.py: freshly initialised SMMix DeiT-S
and PVT-S classifiers and an MMPretrain Swin-T classifier converted for timm,
mmsegmentation and mmdetection load with no missing backbone key and give
the same features as ours; bad inputs are refused with clear messages."""
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict

from mmsmmix.models.converters import convert_to_dense, load_classifier_weights
from mmsmmix.utils import CheckpointFileError, CheckpointMismatchError
from tests.helpers import refused, smmix_classifier, swin_tiny_classifier
from tests.tool_process import run_tool

CONVERT = osp.join('model_converters', 'mmsmmix2dense.py')


@pytest.fixture(scope='module')
def deit(tmp_path_factory):
    model = smmix_classifier('deit-small_smmix_4xb256_in1k.py')
    path = tmp_path_factory.mktemp('deit') / 'epoch_1.pth'
    # a Runner-style checkpoint: state_dict plus meta
    torch.save(dict(state_dict=model.state_dict(), meta=dict(epoch=1)),
               path)
    return model, str(path)


@pytest.fixture(scope='module')
def pvt(tmp_path_factory):
    model = smmix_classifier('pvt-small_smmix_4xb256_in1k.py')
    path = tmp_path_factory.mktemp('pvt') / 'pvt.pth'
    torch.save(model.state_dict(), path)  # a plain state dict
    return model, str(path)


@pytest.fixture(scope='module')
def swin(tmp_path_factory):
    model = swin_tiny_classifier()
    path = tmp_path_factory.mktemp('swin') / 'epoch_1.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict(epoch=1)),
               path)
    return model, str(path)


def _swin_stages(model, images):
    """Our Swin's four stage outputs as mmdet/mmseg give them: each stage
    before its patch merging, normalised (stages 1-3 by a plain LayerNorm,
    the identity ``norm0``-``norm2`` the converter writes; stage 4 by our
    ``norm3``), as (B, C, h, w)."""
    backbone = model.backbone
    outs = []
    with torch.no_grad():
        x, hw = backbone.patch_embed(images)
        for i, stage in enumerate(backbone.stages):
            x, hw = stage(x, hw, do_downsample=False)
            out = (backbone.norm3(x) if i == 3 else F.layer_norm(
                x, x.shape[-1:]))
            outs.append(out.view(-1, *hw, x.shape[-1]).permute(0, 3, 1, 2))
            if stage.downsample is not None:
                x, hw = stage.downsample(x, hw)
    return outs


def _convert(src, dst, target):
    output = run_tool(CONVERT, src, str(dst), '--to', target)
    return torch.load(dst, weights_only=True), output


def _vit_featmaps(model, images, indices):
    """Our ViT's patch tokens after blocks ``indices`` as (B, C, h, w)."""
    backbone = model.backbone
    outs = []
    hooks = [
        backbone.layers[i].register_forward_hook(
            lambda m, a, out: outs.append(out)) for i in indices
    ]
    with torch.no_grad():
        backbone(images)
    for h in hooks:
        h.remove()
    b, _, c = outs[0].shape
    side = images.shape[-1] // 16
    return [o[:, 1:].transpose(1, 2).reshape(b, c, side, side) for o in outs]


@pytest.mark.slow
def test_timm_vit_gives_our_features(deit, tmp_path):
    from timm.models.vision_transformer import VisionTransformer
    model, src = deit
    weights, output = _convert(src, tmp_path / 'timm.pth', 'timm')
    assert 'every key fits' in output and '4 head tensors dropped' in output
    assert all(isinstance(v, torch.Tensor) for v in weights.values())
    timm_vit = VisionTransformer(embed_dim=384, depth=12, num_heads=6,
                                 num_classes=0).eval()
    timm_vit.load_state_dict(weights, strict=True)
    images = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        theirs = timm_vit.forward_features(images)
        model.backbone.out_type = 'raw'
        ours = model.backbone(images)[0]
    assert torch.allclose(theirs, ours, atol=1e-5)


def test_refuses_bad_files_and_targets(deit, pvt, swin, tmp_path, capsys):
    text = tmp_path / 'notes.pth'
    text.write_text('not a checkpoint')
    tensor = tmp_path / 'tensor.pth'
    torch.save(torch.zeros(3), tensor)
    resnet = tmp_path / 'resnet.pth'
    torch.save({'backbone.conv1.weight': torch.zeros(1),
                'head.fc.weight': torch.zeros(1)}, resnet)
    cases = [
        (text, 'mmseg-vit', 'notes.pth is not a PyTorch checkpoint'),
        (tensor, 'mmseg-vit', 'holds a Tensor, not a checkpoint dict'),
        (resnet, 'mmseg-vit',
         "not a DeiT/ViT, PVT-v1 or Swin classifier checkpoint: expected "
         "'backbone.layers.0.attn.qkv.weight', "
         "'backbone.block1.0.attn.q.weight' or "
         "'backbone.stages.0.blocks.0.attn.w_msa.qkv.weight'; its backbone "
         "has ['conv1']"),
        (pvt[1], 'mmseg-vit', "cannot map a PVT-v1 checkpoint to "
         "'mmseg-vit', which takes DeiT/ViT backbones"),
        (pvt[1], 'timm', 'timm has no PVT-v1'),
        (deit[1], 'mmdet-pvt', "cannot map a DeiT/ViT checkpoint to "
         "'mmdet-pvt'"),
        (swin[1], 'mmseg-vit', "cannot map a Swin checkpoint to "
         "'mmseg-vit', which takes DeiT/ViT backbones"),
        (swin[1], 'timm', "cannot map a Swin checkpoint to 'timm', which "
         'takes DeiT/ViT backbones'),
        (deit[1], 'mmdet-swin', "cannot map a DeiT/ViT checkpoint to "
         "'mmdet-swin', which takes Swin backbones"),
        (pvt[1], 'mmseg-swin', "cannot map a PVT-v1 checkpoint to "
         "'mmseg-swin', which takes Swin backbones"),
        (tmp_path / 'missing.pth', 'timm', 'not found (looked for'),
    ]
    # The command line's main() once (its one-line refusal, nothing
    # written); the other refusals through the same package calls.
    src, target, message = cases[0]
    dst = tmp_path / f'out-{target}.pth'
    tool = osp.join('tools', CONVERT)
    code, out = refused(tool, str(src), str(dst), '--to', target,
                        capsys=capsys)
    assert code == 2, out
    assert out.startswith(f'{tool}: {src} is not a PyTorch checkpoint'), out
    assert len(out.strip().splitlines()) == 1, out
    assert not dst.exists()
    code, out = refused(tool, str(src), str(dst), '--to', 'mmseg',
                        capsys=capsys)
    assert code == 2 and out.strip() == (
        f'{tool}: --to mmseg: unknown target; choose from mmseg-vit, '
        'mmdet-pvt, timm, mmdet-swin, mmseg-swin'), out
    # a checkpoint of a family the target does not take: named with it
    code, out = refused(tool, pvt[1], str(dst), '--to', 'timm',
                        capsys=capsys)
    assert code == 2 and out.strip() == (
        f"{tool}: {pvt[1]}: cannot map a PVT-v1 checkpoint to 'timm', "
        'which takes DeiT/ViT backbones (timm has no PVT-v1)'), out
    assert not dst.exists()
    for src, target, message in cases[1:]:
        with pytest.raises((CheckpointFileError, CheckpointMismatchError,
                            FileNotFoundError, ValueError)) as err:
            arch, state = load_classifier_weights(str(src))
            convert_to_dense(state, arch, target)
        assert message in str(err.value), (target, str(err.value))


def test_mmseg_vit_layout_by_hand(deit):
    model, src = deit
    arch, state = load_classifier_weights(src)
    converted = convert_to_dense(state, arch, 'mmseg-vit')
    qkv = state['backbone.layers.3.attn.qkv.weight']
    assert torch.equal(converted['layers.3.attn.attn.in_proj_weight'], qkv)
    assert torch.equal(converted['layers.3.attn.attn.out_proj.bias'],
                       state['backbone.layers.3.attn.proj.bias'])
    assert not any(k.startswith(('head', 'token_head', 'backbone'))
                   for k in converted)
    assert len(converted) == len([k for k in state
                                  if k.startswith('backbone.')])


@pytest.mark.slow
@pytest.mark.dense
def test_mmseg_vit_gives_our_features(deit, tmp_path):
    mmseg_backbones = pytest.importorskip(
        'mmseg.models.backbones',
        reason='the dense extra is not installed (make dense)')
    model, src = deit
    weights, output = _convert(src, tmp_path / 'mmseg.pth', 'mmseg-vit')
    assert 'every key fits' in output
    vit = mmseg_backbones.VisionTransformer(
        img_size=224, embed_dims=384, num_heads=6, out_indices=(2, 5, 8, 11),
        final_norm=False, norm_cfg=dict(type='LN', eps=1e-6), patch_bias=True,
        init_cfg=dict(type='Pretrained',
                      checkpoint=str(tmp_path / 'mmseg.pth')))
    before = vit.layers[0].attn.attn.in_proj_weight.clone()
    vit.init_weights()
    assert not torch.equal(before, vit.layers[0].attn.attn.in_proj_weight)
    vit.eval()
    images = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        theirs = vit(images)
    ours = _vit_featmaps(model, images, (2, 5, 8, 11))
    for a, b in zip(theirs, ours):
        assert torch.allclose(a, b, atol=1e-5)


@pytest.mark.slow
@pytest.mark.dense
def test_mmdet_pvt_gives_our_features(pvt, tmp_path):
    mmdet_backbones = pytest.importorskip(
        'mmdet.models.backbones',
        reason='the dense extra is not installed (make dense)')
    model, src = pvt
    weights, output = _convert(src, tmp_path / 'mmdet.pth', 'mmdet-pvt')
    assert 'every key fits' in output
    assert 'cls_token' in weights and 'block1.0.attn.q.weight' in weights
    det = mmdet_backbones.PyramidVisionTransformer(
        num_layers=[3, 4, 6, 3],
        init_cfg=ConfigDict(type='Pretrained',
                            checkpoint=str(tmp_path / 'mmdet.pth')))
    det.init_weights()
    det.eval()
    images = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        theirs = det(images)
    # Ours, stage by stage; stage 4 without the class token (dense PVT has
    # none: mmdet drops it and its position slot when loading).
    backbone = model.backbone
    ours, x = [], images
    with torch.no_grad():
        for i in range(1, 5):
            x, (h, w) = getattr(backbone, f'patch_embed{i}')(x)
            pos = getattr(backbone, f'pos_embed{i}')
            x = x + (pos[:, 1:] if i == 4 else pos)
            for block in getattr(backbone, f'block{i}'):
                x = block(x, h, w)
            x = x.transpose(1, 2).reshape(2, -1, h, w)
            ours.append(x)
    for a, b in zip(theirs, ours):
        assert a.shape == b.shape
        assert torch.allclose(a, b, atol=1e-4)


def test_swin_layout_by_hand(swin):
    """Every backbone tensor of the classifier under its own name (mmdet's
    under ``backbone.``), plus identity ``norm0``-``norm2``; heads
    dropped."""
    _, src = swin
    arch, state = load_classifier_weights(src)
    assert arch == 'swin'
    ours = {k[len('backbone.'):]: v for k, v in state.items()
            if k.startswith('backbone.')}
    added = {f'norm{i}.{p}' for i in range(3) for p in ('weight', 'bias')}
    seg = convert_to_dense(state, arch, 'mmseg-swin')
    det = convert_to_dense(state, arch, 'mmdet-swin')
    assert set(seg) == set(ours) | added and not set(ours) & added
    assert list(det) == ['backbone.' + k for k in seg]
    for key, value in ours.items():
        assert torch.equal(seg[key], value), key
        assert torch.equal(det['backbone.' + key], value), key
    for i, dims in enumerate((96, 192, 384)):
        assert torch.equal(seg[f'norm{i}.weight'], torch.ones(dims))
        assert torch.equal(seg[f'norm{i}.bias'], torch.zeros(dims))
    assert not torch.equal(seg['norm3.weight'], torch.ones(768))


@pytest.mark.slow
@pytest.mark.dense
@pytest.mark.parametrize('target', ['mmdet-swin', 'mmseg-swin'])
def test_swin_gives_our_features(swin, tmp_path, target):
    """Loaded by the target's own ``init_weights`` (as its configs do) and
    strictly: at 256 px (stage 4 larger than a window) all four stages are
    ours."""
    library = target.split('-')[0]
    backbones = pytest.importorskip(
        f'{library}.models.backbones',
        reason='the dense extra is not installed (make dense)')
    model, src = swin
    dst = tmp_path / f'{target}.pth'
    weights, output = _convert(src, dst, target)
    assert 'every key fits' in output and '4 head tensors dropped' in output
    assert 'norm0, norm1, norm2: not in the classifier' in output
    assert all(isinstance(v, torch.Tensor) for v in weights.values())
    swin_t = dict(embed_dims=96, depths=[2, 2, 6, 2], num_heads=[3, 6, 12, 24],
                  window_size=7, out_indices=(0, 1, 2, 3))
    theirs = backbones.SwinTransformer(
        **swin_t, init_cfg=ConfigDict(type='Pretrained', checkpoint=str(dst)))
    theirs.init_weights()
    strict = backbones.SwinTransformer(**swin_t)
    bare = {k[len('backbone.'):] if library == 'mmdet' else k: v
            for k, v in weights.items()}
    strict.load_state_dict(bare, strict=True)
    for key, value in strict.state_dict().items():
        assert torch.equal(theirs.state_dict()[key], value), key
    images = torch.randn(1, 3, 256, 256)
    theirs.eval()  # (their train() returns None)
    with torch.no_grad():
        outs = theirs(images)
    for i, (a, b) in enumerate(zip(outs, _swin_stages(model, images))):
        assert a.shape == b.shape and torch.allclose(a, b, atol=1e-5), i


@pytest.mark.dense
def test_swin_at_224_px(swin):
    """At 224 px stages 1-3 are ours; stage 4 (7x7, one window) differs only
    because MMPretrain's Swin does not shift a one-window map unless
    ``pad_small_map`` (mmdet/mmseg always shift)."""
    from mmpretrain.models.utils.attention import ShiftWindowMSA
    backbones = pytest.importorskip(
        'mmseg.models.backbones',
        reason='the dense extra is not installed (make dense)')
    model, src = swin
    arch, state = load_classifier_weights(src)
    seg = backbones.SwinTransformer(
        embed_dims=96, depths=[2, 2, 6, 2], num_heads=[3, 6, 12, 24],
        window_size=7, out_indices=(0, 1, 2, 3))
    seg.load_state_dict(convert_to_dense(state, arch, 'mmseg-swin'),
                        strict=True)
    images = torch.randn(1, 3, 224, 224)
    seg.eval()  # (their train() returns None)
    with torch.no_grad():
        theirs = seg(images)
    ours = _swin_stages(model, images)
    for a, b in zip(theirs[:3], ours[:3]):
        assert torch.allclose(a, b, atol=1e-5)
    assert not torch.allclose(theirs[3], ours[3], atol=1e-3)
    attns = [m for m in model.backbone.modules()
             if isinstance(m, ShiftWindowMSA)]
    try:
        for attn in attns:
            attn.pad_small_map = True
        assert torch.allclose(theirs[3], _swin_stages(model, images)[3],
                              atol=1e-5)
    finally:
        for attn in attns:
            attn.pad_small_map = False


@pytest.mark.dense
def test_mmdet_swin_needs_prefix_and_no_convert_weights(swin, tmp_path):
    """Why ``--to mmdet-swin`` keeps ``backbone.`` and its config sets
    ``convert_weights=False``: mmdet's recipe value (True) runs
    ``swin_converter``, which fails on our file and, on a bare one (mmseg's
    layout), silently skips the patch embedding; without the prefix and
    with False nothing loads."""
    backbones = pytest.importorskip(
        'mmdet.models.backbones',
        reason='the dense extra is not installed (make dense)')
    _, src = swin
    arch, state = load_classifier_weights(src)
    files = {}
    for target in ('mmdet-swin', 'mmseg-swin'):
        files[target] = str(tmp_path / f'{target}.pth')
        torch.save(convert_to_dense(state, arch, target), files[target])

    def load(target, convert_weights):
        det = backbones.SwinTransformer(
            convert_weights=convert_weights,
            init_cfg=ConfigDict(type='Pretrained', checkpoint=files[target]))
        det.init_weights()
        return {k: torch.equal(v, state['backbone.' + k])
                for k, v in det.state_dict().items()
                if k in ('patch_embed.projection.weight',
                         'stages.0.blocks.0.attn.w_msa.qkv.weight')}

    assert all(load('mmdet-swin', False).values())
    with pytest.raises(KeyError, match='backbone.stages.0'):
        load('mmdet-swin', True)
    assert load('mmseg-swin', True) == {
        'patch_embed.projection.weight': False,
        'stages.0.blocks.0.attn.w_msa.qkv.weight': True}
    with pytest.raises(IndexError):  # no backbone.* key: nothing to load
        load('mmseg-swin', False)
