"""CaiT (Touvron et al., ICCV 2021) from timm, as an MMPretrain backbone."""
from typing import Tuple

import torch
from mmpretrain.models.backbones.base_backbone import BaseBackbone
from mmpretrain.registry import MODELS


@MODELS.register_module()
class CaiT(BaseBackbone):
    """timm's CaiT, untouched, with MMPretrain's backbone interface.

    CaiT runs its self-attention blocks on the patch tokens only, then two
    class-attention blocks update a class token; the final LayerNorm covers
    ``[cls, patches]``. The timm model lives in ``self.model`` (its
    parameter names follow under ``backbone.model.``), built without a
    classifier and never with downloaded weights.

    Args:
        arch (str): ``'xxs24'`` or ``'xxs36'`` (timm ``cait_xxs{24,36}_224``:
            192-d, 4 heads, 224 px only).
        drop_path_rate (float): Stochastic depth. Defaults to 0.1 (the
            official SMMix value for every model).
        in_channels (int): Input channels. Defaults to 3.
        out_type (str): ``'raw'``: final-norm tokens (B, 1 + 196, 192),
            class token first; or ``'cls_token'``: (B, 192).
        init_cfg (dict, optional): mmengine init config (timm initialises
            the model when it is built).
    """
    arch_zoo = {'xxs24': 'cait_xxs24_224', 'xxs36': 'cait_xxs36_224'}
    OUT_TYPES = ('raw', 'cls_token')

    def __init__(self,
                 arch: str = 'xxs24',
                 drop_path_rate: float = 0.1,
                 in_channels: int = 3,
                 out_type: str = 'raw',
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if arch not in self.arch_zoo:
            raise ValueError(f'CaiT arch must be one of '
                             f'{sorted(self.arch_zoo)}, got {arch!r}')
        if out_type not in self.OUT_TYPES:
            raise ValueError(f'out_type must be one of {self.OUT_TYPES}, '
                             f'got {out_type!r}')
        self.out_type = out_type
        # timm is imported on first build: `import mmsmmix` stays light
        import timm
        self.model = timm.create_model(
            self.arch_zoo[arch],
            pretrained=False,
            num_classes=0,
            in_chans=in_channels,
            drop_path_rate=drop_path_rate)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        tokens = self.model.forward_features(x)
        return (tokens, ) if self.out_type == 'raw' else (tokens[:, 0], )
