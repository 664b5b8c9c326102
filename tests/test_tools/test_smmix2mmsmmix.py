"""tools/model_converters/smmix2mmsmmix.py: official-layout SMMix
checkpoints (random weights) give our converted models the same logits."""
import argparse
import os.path as osp

import pytest
import timm
import torch

from mmsmmix.models.converters import (convert_official_smmix,
                                       load_official_checkpoint)
from mmsmmix.utils import (CheckpointFileError, CheckpointMismatchError,
                           load_weights)
from tests.helpers import (PVT_DEPTHS, build_config_model, load_smmix_config,
                           official_pvt_keys, pvt_backbone, refused)
from tests.tool_process import run_tool_process

TOOL = 'tools/model_converters/smmix2mmsmmix.py'


def _release(model_state, path):
    """A file laid out as the official main.py saves it."""
    torch.save(
        dict(
            model=model_state,
            optimizer=dict(state={}, param_groups=[dict(lr=1e-5)]),
            lr_scheduler=dict(last_epoch=299),
            epoch=299,
            model_ema=model_state,
            scaler=dict(scale=65536.0, growth_factor=2.0),
            args=argparse.Namespace(model='deit_tiny_patch16_224', side=14,
                                    mixup_switch_prob=0.5)), path)
    return str(path)


def _convert(src, dst):
    proc = run_tool_process(TOOL, src, str(dst))
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def official_deit(tmp_path_factory):
    """timm's DeiT-T plus a token head: the official DeiT model's layout."""
    torch.manual_seed(0)
    deit = timm.create_model('deit_tiny_patch16_224', pretrained=False)
    token_head = torch.nn.Linear(192, 1000)
    torch.nn.init.normal_(deit.head.weight, std=0.02)
    state = dict(deit.state_dict())
    state.update({f'token_head.{k}': v
                  for k, v in token_head.state_dict().items()})
    path = _release(state, tmp_path_factory.mktemp('deit') / 'smmix.pth')
    return deit.eval(), token_head, path


@pytest.mark.slow
def test_deit_release_converts_to_equal_logits(official_deit, tmp_path):
    deit, token_head, src = official_deit
    code, output = _convert(src, tmp_path / 'ours.pth')
    assert code == 0, output
    assert 'official deit SMMix weights (epoch 299), 154 tensors' in output
    model = build_config_model(
        load_smmix_config('deit-tiny_smmix_4xb256_in1k.py'))
    load_weights(model, str(tmp_path / 'ours.pth'))  # strict
    model.eval()
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        tokens = model.extract_feat(x)
        ours = model.head(tokens)
        theirs = deit(x)
        features = deit.forward_features(x)
        ours_fine = model.head.token_head(tokens[-1][:, 1:].mean(1))
        theirs_fine = token_head(features[:, 1:].mean(1))
    assert torch.allclose(ours, theirs, atol=1e-5)
    assert torch.allclose(ours_fine, theirs_fine, atol=1e-5)
    assert ours.abs().max() > 1e-3  # real logits, not zeros


@pytest.mark.slow
def test_pvt_release_converts_to_equal_logits(tmp_path):
    """The official PVT-v1 layout: the release's key list (written out by
    hand in test_pvt_v1) plus head and token_head."""
    torch.manual_seed(1)
    backbone = pvt_backbone('tiny')
    head, token_head = torch.nn.Linear(512, 1000), torch.nn.Linear(512, 1000)
    state = dict(backbone.state_dict())
    assert list(state) == official_pvt_keys(PVT_DEPTHS['tiny'])
    state.update({f'head.{k}': v for k, v in head.state_dict().items()})
    state.update(
        {f'token_head.{k}': v for k, v in token_head.state_dict().items()})
    code, output = _convert(_release(state, tmp_path / 'pvt.pth'),
                            tmp_path / 'ours.pth')
    assert code == 0, output
    model = build_config_model(
        load_smmix_config('pvt-tiny_smmix_4xb256_in1k.py'))
    load_weights(model, str(tmp_path / 'ours.pth'))
    model.eval()
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        ours = model.head(model.extract_feat(x))
        backbone.out_type = 'cls_token'
        theirs = head(backbone(x)[0])
    assert torch.allclose(ours, theirs, atol=1e-5)


def _error(src):
    """The message the tool's package functions give for ``src``."""
    with pytest.raises((CheckpointFileError, CheckpointMismatchError)) as err:
        convert_official_smmix(load_official_checkpoint(str(src))['model'])
    return str(err.value)


def test_bad_inputs_are_refused(official_deit, tmp_path, capsys):
    text = tmp_path / 'notes.pth'
    text.write_text('DeiT-T SMMix, 73.6 top-1\n')
    code, output = refused(TOOL, str(text), str(tmp_path / 'out.pth'),
                           capsys=capsys)  # the command line's main()
    assert code == 2 and not osp.exists(tmp_path / 'out.pth')
    assert output.startswith(f'{TOOL}: {text} is not a PyTorch checkpoint')
    assert len(output.strip().splitlines()) == 1, output
    code, output = refused(TOOL, str(tmp_path / 'missing.pth'),
                           str(tmp_path / 'out.pth'), capsys=capsys)
    assert code == 2 and output.strip() == (
        f"{TOOL}: checkpoint {tmp_path / 'missing.pth'} not found (looked "
        f"for {tmp_path / 'missing.pth'})")
    code, output = refused(TOOL, str(text), capsys=capsys)
    assert code == 2 and 'the following arguments are required: dst' in \
        output

    truncated = tmp_path / 'cut.pth'
    truncated.write_bytes(open(official_deit[2], 'rb').read()[:100000])
    assert 'truncated or damaged checkpoint' in _error(truncated)

    resnet = timm.create_model('resnet18', pretrained=False).state_dict()
    other = _release(resnet, tmp_path / 'resnet.pth')
    assert 'not an official SMMix DeiT or PVT-v1 model' in _error(other)

    bare = tmp_path / 'bare.pth'
    torch.save(dict(state_dict={}), bare)
    assert "expected a dict with a 'model' state dict" in _error(bare)

    deit_state = load_official_checkpoint(official_deit[2])['model']
    del deit_state['blocks.3.mlp.fc2.weight']
    deit_state['dist_token'] = torch.zeros(1, 1, 192)
    message = _error(_release(deit_state, tmp_path / 'partial.pth'))
    assert '1 missing (backbone.layers.3.ffn.layers.1.weight)' in message
    assert '1 unexpected (dist_token)' in message
