"""SMMix classification checkpoints -> backbones of dense-prediction code.

Sources: our ``MixImageClassifier`` checkpoints (Runner checkpoints with a
``state_dict``, or plain state dicts as ``smmix2mmsmmix.py`` writes them)
and the official SMMix release files. Targets:

- ``'mmseg-vit'``: mmsegmentation's ``VisionTransformer`` (mmcv attention:
  ``attn.attn.in_proj_*`` / ``attn.attn.out_proj``), which ignores
  ``init_cfg.prefix`` and loads non-strictly, so a classification
  checkpoint would otherwise load as nothing;
- ``'mmdet-pvt'``: the official PVT-v1 names (our backbone's own), which
  mmdetection's ``PyramidVisionTransformer`` converts itself
  (``pvt_convert``: drops the class token and its position slot);
- ``'timm'``: timm's ``VisionTransformer`` names (DeiT);
- ``'mmdet-swin'`` / ``'mmseg-swin'``: mmdetection's / mmsegmentation's
  ``SwinTransformer``, whose names are MMPretrain's, with an output norm
  per stage (``norm0``-``norm3``) where the classifier has ``norm3`` only
  (see :func:`convert_to_dense`). mmdet's ``init_weights`` keeps only
  ``backbone.``-prefixed keys, so that target keeps the prefix; mmseg's
  takes them bare.

The token head and the classifier are dropped; the result holds tensors
only, so it loads with ``weights_only=True``.
"""
import argparse
import math
import re
from collections import OrderedDict
from typing import Dict, Optional, Tuple

import torch

from mmsmmix.utils import (CheckpointMismatchError, count_numbered,
                           describe_mismatch, load_local_checkpoint)
from .official_smmix import DEIT_RULES, convert_official_smmix

TARGETS = ('mmseg-vit', 'mmdet-pvt', 'timm', 'mmdet-swin', 'mmseg-swin')
# Which of our backbones each target takes.
TARGET_ARCH = {'mmseg-vit': 'vit', 'mmdet-pvt': 'pvt', 'timm': 'vit',
               'mmdet-swin': 'swin', 'mmseg-swin': 'swin'}
ARCH_KEYS = {
    'vit': 'backbone.layers.0.attn.qkv.weight',
    'pvt': 'backbone.block1.0.attn.q.weight',
    'swin': 'backbone.stages.0.blocks.0.attn.w_msa.qkv.weight',
}
ARCH_NAMES = dict(vit='DeiT/ViT', pvt='PVT-v1', swin='Swin')


def load_classifier_weights(filename: str) -> Tuple[str, OrderedDict]:
    """Our classifier's state dict from any SMMix classification file.

    Args:
        filename (str): A Runner checkpoint (``state_dict``), a plain state
            dict of ours, or an official SMMix release (``model``).

    Returns:
        tuple: The backbone family (``'vit'``, ``'pvt'`` or ``'swin'``) and
        the ``MixImageClassifier`` state dict.

    Raises:
        FileNotFoundError: If there is no such file.
        CheckpointFileError: If it is not a readable checkpoint.
        CheckpointMismatchError: If it holds no SMMix DeiT, PVT-v1 or Swin
            classifier (naming what it found).
    """
    with torch.serialization.safe_globals([argparse.Namespace]):
        checkpoint = load_local_checkpoint(filename, map_location='cpu')
    if not isinstance(checkpoint, dict):
        raise CheckpointMismatchError(
            f'{filename} holds a {type(checkpoint).__name__}, not a '
            'checkpoint dict')
    if isinstance(checkpoint.get('state_dict'), dict):
        state = checkpoint['state_dict']
    elif isinstance(checkpoint.get('model'), dict):
        _, state = convert_official_smmix(checkpoint['model'])
    else:
        state = checkpoint
    for arch, key in ARCH_KEYS.items():
        if key in state:
            return arch, OrderedDict(state)
    backbone = sorted({k.split('.')[1] for k in state
                       if k.startswith('backbone.') and k.count('.') > 1})
    keys = list(map(repr, ARCH_KEYS.values()))
    raise CheckpointMismatchError(
        f'{filename} is not a DeiT/ViT, PVT-v1 or Swin classifier '
        f"checkpoint: expected {', '.join(keys[:-1])} or {keys[-1]}; its "
        f"backbone has {backbone[:6] or 'no backbone.* keys'} "
        f'(first keys: {list(state)[:3]})')


def _inverse(pattern: str, replacement: str) -> Tuple[str, str]:
    """Invert one ``(regex, replacement)`` rename rule of ``DEIT_RULES``."""
    inv_pattern = '^' + re.escape(replacement).replace(r'\\1', r'(\d+)')
    inv_replacement = pattern.lstrip('^').rstrip('$').replace(
        r'(\d+)', r'\1').replace('\\.', '.')
    return inv_pattern, inv_replacement


TIMM_RULES = [_inverse(p, r) for p, r in DEIT_RULES]


def _rename(state: Dict[str, torch.Tensor], rules) -> OrderedDict:
    out = OrderedDict()
    for key, value in state.items():
        for pattern, replacement in rules:
            if re.match(pattern, key):
                out[re.sub(pattern, replacement, key)] = value
                break
        else:
            out[key] = value
    return out


def _swin_stage_norms(backbone: Dict[str, torch.Tensor]) -> OrderedDict:
    """Add ``norm{i}`` (weight 1, bias 0) for each stage that has none.

    The classifier normalises the last stage only (``norm3``, kept as it
    is: the same layer at the same place); mmdet's and mmseg's Swin have a
    norm per output stage. LayerNorm's own initial values are what those
    libraries leave in ``norm0``-``norm2`` when loading a classification
    checkpoint, their official conversions included (which drop the
    classifier's final ``norm`` as well); writing them makes the file load
    with ``strict=True``.
    """
    out = OrderedDict((k, v) for k, v in backbone.items()
                      if not re.match(r'^norm\d+\.', k))
    for i in range(count_numbered(backbone, r'^stages\.(\d+)\.')):
        dims = backbone[f'stages.{i}.blocks.0.norm1.weight'].shape[0]
        weight = backbone.get(f'norm{i}.weight')
        if weight is None:
            out[f'norm{i}.weight'] = torch.ones(dims)
            out[f'norm{i}.bias'] = torch.zeros(dims)
        else:
            out[f'norm{i}.weight'] = weight
            out[f'norm{i}.bias'] = backbone[f'norm{i}.bias']
    return out


def convert_to_dense(state: Dict[str, torch.Tensor], arch: str,
                     target: str) -> OrderedDict:
    """Convert a classifier state dict to a target's backbone layout.

    For the Swin targets every backbone tensor keeps its name (MMPretrain,
    mmdet and mmseg share them; their ``PatchMerging`` is the same
    ``nn.Unfold``, so no reordering), and ``norm0``-``norm2``, which the
    classifier lacks, are written as identity LayerNorms (see
    :func:`_swin_stage_norms`). ``'mmdet-swin'`` adds ``backbone.`` to
    every name (mmdet's ``init_weights`` drops any other key).

    Args:
        state (dict): ``MixImageClassifier`` state dict.
        arch (str): Its family, ``'vit'``, ``'pvt'`` or ``'swin'``.
        target (str): One of :data:`TARGETS`.

    Returns:
        OrderedDict: Backbone tensors named as the target expects (heads
        dropped).

    Raises:
        ValueError: For an unknown target or one that cannot take ``arch``.
    """
    if target not in TARGETS:
        raise ValueError(f'unknown target {target!r}; choose from '
                         f"{', '.join(TARGETS)}")
    if TARGET_ARCH[target] != arch:
        raise ValueError(
            f'cannot map a {ARCH_NAMES[arch]} checkpoint to {target!r}, '
            f'which takes {ARCH_NAMES[TARGET_ARCH[target]]} backbones'
            + (' (timm has no PVT-v1)'
               if target == 'timm' and arch == 'pvt' else ''))
    backbone = OrderedDict((k[len('backbone.'):], v.detach().clone())
                           for k, v in state.items()
                           if k.startswith('backbone.'))
    if target == 'mmseg-vit':
        return _rename(backbone, [
            (r'^(layers\.\d+\.attn\.)qkv\.', r'\1attn.in_proj_'),
            (r'^(layers\.\d+\.attn\.)proj\.', r'\1attn.out_proj.'),
        ])
    if target == 'timm':
        return _rename(backbone, TIMM_RULES)
    if arch == 'swin':
        backbone = _swin_stage_norms(backbone)
        if target == 'mmdet-swin':
            return OrderedDict(
                ('backbone.' + k, v) for k, v in backbone.items())
    return backbone


def _as_loaded(converted: Dict[str, torch.Tensor],
               target: str) -> Dict[str, torch.Tensor]:
    """The weights as the target's ``init_weights`` passes them to
    ``load_state_dict``: mmdet's PVT runs its ``pvt_convert``; mmdet's Swin
    (``convert_weights=False``) keeps ``backbone.*`` keys, unprefixed."""
    if target == 'mmdet-pvt':
        from mmdet.models.backbones.pvt import pvt_convert
        return pvt_convert(converted)
    if target == 'mmdet-swin':
        return OrderedDict((k[len('backbone.'):], v)
                           for k, v in converted.items()
                           if k.startswith('backbone.'))
    return converted


def reference_backbone(converted: Dict[str, torch.Tensor],
                       target: str) -> Optional[torch.nn.Module]:
    """The target library's own backbone for these weights' architecture,
    or None if that library is not installed.

    The input size is read from the position embeddings. Heads are not
    stored in weights; they are set to ``dims // 64`` (ViT), which does not
    change any parameter shape. mmseg's ViT is built with ``patch_bias=True``
    (DeiT has one; mmseg's own recipes leave it out and drop it silently).
    Swin is read whole from the weights (dims, depths, heads and window from
    the bias tables) and built with every stage an output, as in mmdet's and
    mmseg's Swin configs.
    """
    if target in ('mmdet-swin', 'mmseg-swin'):
        try:
            if target == 'mmdet-swin':
                from mmdet.models.backbones import SwinTransformer
            else:
                from mmseg.models.backbones import SwinTransformer
        except ImportError:
            return None
        return SwinTransformer(**_swin_arch(_as_loaded(converted, target)))
    if target == 'mmdet-pvt':
        try:
            from mmdet.models.backbones import PyramidVisionTransformer
        except ImportError:
            return None
        depths = [count_numbered(converted, rf'^block{i}\.(\d+)\.')
                  for i in range(1, 5)]
        tokens = converted['pos_embed1'].shape[1]
        return PyramidVisionTransformer(
            pretrain_img_size=int(round(math.sqrt(tokens))) * 4,
            num_layers=depths)
    dims = converted['cls_token'].shape[-1]
    side = int(round(math.sqrt(converted['pos_embed'].shape[1] - 1)))
    if target == 'mmseg-vit':
        try:
            from mmseg.models.backbones import VisionTransformer
        except ImportError:
            return None
        fc1 = converted['layers.0.ffn.layers.0.0.weight']
        patch = converted['patch_embed.projection.weight'].shape[-1]
        return VisionTransformer(
            img_size=side * patch,
            patch_size=patch,
            embed_dims=dims,
            num_layers=count_numbered(converted, r'^layers\.(\d+)\.'),
            num_heads=max(dims // 64, 1),
            mlp_ratio=fc1.shape[0] // dims,
            patch_bias=True,
            final_norm=True)
    from timm.models.vision_transformer import VisionTransformer
    fc1 = converted['blocks.0.mlp.fc1.weight']
    patch = converted['patch_embed.proj.weight'].shape[-1]
    return VisionTransformer(
        img_size=side * patch,
        patch_size=patch,
        embed_dim=dims,
        depth=count_numbered(converted, r'^blocks\.(\d+)\.'),
        num_heads=max(dims // 64, 1),
        mlp_ratio=fc1.shape[0] / dims,
        num_classes=0)


def _swin_arch(weights: Dict[str, torch.Tensor]) -> dict:
    """mmdet's / mmseg's ``SwinTransformer`` arguments for bare Swin
    backbone weights (``stages.*``, ``patch_embed.*``)."""
    projection = weights['patch_embed.projection.weight']
    dims, patch = projection.shape[0], projection.shape[-1]
    stages = count_numbered(weights, r'^stages\.(\d+)\.')
    tables = [
        weights[f'stages.{i}.blocks.0.attn.w_msa.relative_position_bias_table']
        for i in range(stages)
    ]
    fc1 = weights['stages.0.blocks.0.ffn.layers.0.0.weight']
    return dict(
        embed_dims=dims,
        patch_size=patch,
        window_size=(int(round(math.sqrt(tables[0].shape[0]))) + 1) // 2,
        mlp_ratio=fc1.shape[0] // dims,
        depths=[count_numbered(weights, rf'^stages\.{i}\.blocks\.(\d+)\.')
                for i in range(stages)],
        num_heads=[t.shape[1] for t in tables],
        strides=(patch, ) + (2, ) * (stages - 1),
        out_indices=tuple(range(stages)))


def check_against(converted: Dict[str, torch.Tensor], target: str,
                  reference: torch.nn.Module) -> None:
    """Refuse weights that do not fill ``reference`` exactly.

    The weights are first read as the target's ``init_weights`` reads them
    (mmdet's PVT: its own ``pvt_convert``; mmdet's Swin: the ``backbone.``
    keys, unprefixed).

    Raises:
        CheckpointMismatchError: Naming missing, unexpected and mis-shaped
            keys.
    """
    weights = _as_loaded(converted, target)
    problems = describe_mismatch(reference, weights)
    if problems:
        raise CheckpointMismatchError(
            f'the converted weights do not fit {target} '
            f'({type(reference).__name__}): {problems}')
