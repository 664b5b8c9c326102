"""PVT-v2 (Wang et al., "PVT v2: Improved Baselines with Pyramid Vision
Transformer", CVMJ 2022) from timm, as an MMPretrain backbone."""
from typing import Optional, Sequence, Tuple, Union

import torch
from mmpretrain.models.backbones.base_backbone import BaseBackbone
from mmpretrain.registry import MODELS


@MODELS.register_module()
class PyramidVisionTransformerV2(BaseBackbone):
    """timm's PVT-v2, untouched, with MMPretrain's backbone interface.

    An overlapping 7x7 stride-4 stem, then stages that each start with a
    3x3 stride-2 overlapping patch embedding (strides 4, 8, 16, 32: a 7x7
    last stage at 224 px), spatial-reduction attention (``sr_ratios``; the
    ``linear`` variant pools keys/values to 7x7), a depthwise-conv MLP, no
    class token and no position embedding, and a LayerNorm closing each
    stage. The timm model lives in ``self.model`` (its parameter names
    follow under ``backbone.model.``), built without a classifier and never
    with downloaded weights. timm's stem is fixed, so a 28-px input gives a
    7x7 grid only after stage 1: a one-stage ``arch`` dict (or a 56-px input
    for two stages, 112 for three, 224 for four).

    Args:
        arch (str | dict): ``'b0'`` ... ``'b5'`` or ``'b2_li'`` (timm
            ``pvt_v2_*``), or a dict of timm ``PyramidVisionTransformerV2``
            arguments (``depths``, ``embed_dims``, ``num_heads``,
            ``sr_ratios``, ``mlp_ratios``, ``linear``, ``qkv_bias``, ...);
            with other than four stages give every per-stage tuple.
        drop_path_rate (float): Stochastic depth. Defaults to 0.1 (the
            PVT-v2-b2 recipe).
        in_channels (int): Input channels. Defaults to 3.
        out_indices (Sequence[int] | int): Stages whose maps are returned
            (negative: from the last). Defaults to ``(3, )``.
        img_size (int | tuple[int, int], optional): The input size the
            model is built for. timm's PVT-v2 takes any size; this one lets
            a mixing method check its token grid when the model is built,
            as for MMPretrain's backbones (None: no fixed size). Defaults to
            224.
        init_cfg (dict, optional): mmengine init config (timm initialises
            the model when it is built).

    Returns (forward):
        tuple[Tensor]: One (B, C_i, H_i, W_i) map per ``out_indices`` in
        stage order, after the stage's LayerNorm (the last stage's is what
        timm's ``forward_features`` returns), e.g. (B, 512, 7, 7) for b2 at
        224 px.
    """
    arch_zoo = {
        name: f'pvt_v2_{name}'
        for name in ('b0', 'b1', 'b2', 'b2_li', 'b3', 'b4', 'b5')
    }
    #: Per-stage arguments of timm's model (a tuple per stage).
    STAGE_KEYS = ('embed_dims', 'num_heads', 'sr_ratios', 'mlp_ratios')
    #: Arguments the wrapper sets itself.
    OWN_KEYS = ('in_chans', 'num_classes', 'global_pool', 'drop_path_rate')

    def __init__(self,
                 arch: Union[str, dict] = 'b2',
                 drop_path_rate: float = 0.1,
                 in_channels: int = 3,
                 out_indices: Union[Sequence[int], int] = (3, ),
                 img_size: Optional[Union[int, Tuple[int, int]]] = 224,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        # timm is imported on first build: `import mmsmmix` stays light
        import timm
        from timm.models.pvt_v2 import PyramidVisionTransformerV2 as TimmPVTv2
        common = dict(num_classes=0, in_chans=in_channels,
                      drop_path_rate=drop_path_rate)
        if isinstance(arch, dict):
            self._check_arch_dict(arch, TimmPVTv2)
            self.model = TimmPVTv2(**arch, **common)
        elif arch in self.arch_zoo:
            self.model = timm.create_model(
                self.arch_zoo[arch], pretrained=False, **common)
        else:
            raise ValueError(f'PyramidVisionTransformerV2 arch must be one '
                             f'of {sorted(self.arch_zoo)} or a dict of timm '
                             f'PyramidVisionTransformerV2 arguments, got '
                             f'{arch!r}')
        num_stages = len(self.model.stages)
        if isinstance(out_indices, int):
            out_indices = (out_indices, )
        indices = []
        for index in out_indices:
            if not -num_stages <= index < num_stages:
                raise ValueError(f'out_indices {tuple(out_indices)} out of '
                                 f'range for {num_stages} stages')
            indices.append(index % num_stages)
        self.out_indices = tuple(sorted(set(indices)))
        if isinstance(img_size, int):
            img_size = (img_size, img_size)
        self.img_size = None if img_size is None else tuple(img_size)

    @classmethod
    def _check_arch_dict(cls, arch: dict, timm_cls) -> None:
        """Refuse unknown keys and per-stage tuples of the wrong length
        (timm would silently read the first ones of a longer tuple)."""
        import inspect
        params = inspect.signature(timm_cls).parameters
        allowed = sorted(set(params) - set(cls.OWN_KEYS) -
                         {'device', 'dtype'})
        unknown = sorted(set(arch) - set(allowed))
        if unknown:
            raise ValueError(f'PyramidVisionTransformerV2 arch dict keys '
                             f'{unknown} are not timm arguments; allowed: '
                             f'{allowed}')
        stages = len(arch.get('depths', params['depths'].default))
        for key in cls.STAGE_KEYS:
            value = arch.get(key, params[key].default)
            if isinstance(value, Sequence) and len(value) != stages:
                raise ValueError(
                    f'PyramidVisionTransformerV2 arch {key!r} must give '
                    f'{stages} values (one per stage of depths), got '
                    f'{tuple(value)}' +
                    ('' if key in arch else ' (the timm default)'))

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        x = self.model.patch_embed(x)
        outs = []
        for i, stage in enumerate(self.model.stages):
            x = stage(x)  # (B, C_i, H_i, W_i) after the stage's norm
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
