"""Probe families in a registry: ours are found by backbone type, a family
of one's own registers a probe without editing ours (and is asked before
ours), and a backbone no probe reads is refused naming the registry."""
import pytest
import torch
import torch.nn as nn
from mmpretrain.registry import MODELS

import mmsmmix  # noqa: F401
from mmsmmix.models.backbones import CaiT, PyramidVisionTransformerV1
from mmsmmix.models.probes import (AttentionProbe, AttentionRecord,
                                   AttentionSite, build_attention_probe,
                                   probe_types)
from mmsmmix.registry import ATTENTION_PROBES
from tests.helpers import tiny_vit_cfg


class TwoTokenMixer(nn.Module):
    """A backbone of one's own: 4 tokens of 1 channel, whose 'attention' is
    softmax of the outer product of the tokens (B, 1, 4, 4)."""

    def forward(self, x):
        tokens = x.flatten(1)[:, :4]
        self.attn = torch.softmax(tokens[:, :, None] * tokens[:, None, :],
                                  dim=-1)[:, None]
        return tokens


@pytest.fixture
def own_probe():
    class MixerProbe(AttentionProbe):

        @classmethod
        def accepts(cls, backbone):
            return isinstance(backbone, TwoTokenMixer)

        def _record(self, attn_stat):
            return AttentionRecord(num_extra_tokens=0, patch_size=(1, 2))

        def _sites(self, attn_stat):

            def read(module, inputs, output, block):
                block.grid = (2, 2)
                return module.attn.float()

            return [AttentionSite(self.backbone, read)]

    ATTENTION_PROBES.register_module(module=MixerProbe)
    yield MixerProbe
    ATTENTION_PROBES.module_dict.pop('MixerProbe')


def test_ours_are_found_by_backbone_type():
    names = {p.__name__ for p in probe_types()}
    assert names == {'ViTAttentionProbe', 'CaiTAttentionProbe',
                     'PVTAttentionProbe', 'SwinAttentionProbe',
                     'PVTv2AttentionProbe'}
    assert type(build_attention_probe(MODELS.build(
        tiny_vit_cfg()))).__name__ == 'ViTAttentionProbe'
    pvt = PyramidVisionTransformerV1(arch=dict(depths=[1, 1, 1, 1]))
    assert type(build_attention_probe(pvt)).__name__ == 'PVTAttentionProbe'
    cait = CaiT(arch='xxs24')
    assert type(build_attention_probe(cait)).__name__ == 'CaiTAttentionProbe'


def test_a_family_of_ones_own(own_probe):
    mixer = TwoTokenMixer()
    probe = build_attention_probe(mixer)
    assert isinstance(probe, own_probe)
    x = torch.tensor([[[[0., 1.], [2., 3.]]]])
    with probe.capture('patch') as record:
        mixer(x)
    # by hand: row i of softmax(t_i * t_j) over j, t = (0, 1, 2, 3)
    t = [0., 1., 2., 3.]
    row = [torch.exp(torch.tensor([2. * tj for tj in t]))]
    expected = row[0] / row[0].sum()
    assert torch.allclose(record.attn[0, 0, 2], expected)
    assert record.grid == (2, 2)
    assert probe_types()[0] is own_probe  # asked before ours


def test_the_latest_registered_probe_is_asked_first(own_probe):
    class MyViTProbe(own_probe):

        @classmethod
        def accepts(cls, backbone):
            return type(backbone).__name__ == 'VisionTransformer'

    ATTENTION_PROBES.register_module(module=MyViTProbe)
    try:
        vit = MODELS.build(tiny_vit_cfg())
        assert isinstance(build_attention_probe(vit), MyViTProbe)
    finally:
        ATTENTION_PROBES.module_dict.pop('MyViTProbe')
    assert type(build_attention_probe(vit)).__name__ == 'ViTAttentionProbe'


def test_a_backbone_no_probe_reads():
    with pytest.raises(TypeError) as err:
        build_attention_probe(nn.Linear(2, 2))
    message = str(err.value)
    assert message.startswith('model.backbone of type Linear has no '
                              'readable attention')
    assert 'ViTAttentionProbe' in message
    assert 'register an AttentionProbe in ' \
        'mmsmmix.registry.ATTENTION_PROBES' in message


def test_the_old_table_still_answers():
    from mmsmmix.models.probes import builder
    with pytest.warns(DeprecationWarning, match='ATTENTION_PROBES'):
        table = builder.PROBES
    assert table == probe_types()
