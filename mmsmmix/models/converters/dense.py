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
- ``'timm'``: timm's ``VisionTransformer`` names (DeiT).

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

TARGETS = ('mmseg-vit', 'mmdet-pvt', 'timm')
# Which of our backbones each target takes.
TARGET_ARCH = {'mmseg-vit': 'vit', 'mmdet-pvt': 'pvt', 'timm': 'vit'}
ARCH_KEYS = {
    'vit': 'backbone.layers.0.attn.qkv.weight',
    'pvt': 'backbone.block1.0.attn.q.weight',
}


def load_classifier_weights(filename: str) -> Tuple[str, OrderedDict]:
    """Our classifier's state dict from any SMMix classification file.

    Args:
        filename (str): A Runner checkpoint (``state_dict``), a plain state
            dict of ours, or an official SMMix release (``model``).

    Returns:
        tuple: The backbone family (``'vit'`` or ``'pvt'``) and the
        ``MixImageClassifier`` state dict.

    Raises:
        FileNotFoundError: If there is no such file.
        CheckpointFileError: If it is not a readable checkpoint.
        CheckpointMismatchError: If it holds no SMMix DeiT or PVT-v1
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
    raise CheckpointMismatchError(
        f'{filename} is not a DeiT/ViT or PVT-v1 classifier checkpoint: '
        f"expected {' or '.join(map(repr, ARCH_KEYS.values()))}; its "
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


def convert_to_dense(state: Dict[str, torch.Tensor], arch: str,
                     target: str) -> OrderedDict:
    """Convert a classifier state dict to a target's backbone layout.

    Args:
        state (dict): ``MixImageClassifier`` state dict.
        arch (str): Its family, ``'vit'`` or ``'pvt'``.
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
        names = dict(vit='DeiT/ViT', pvt='PVT-v1')
        raise ValueError(
            f'cannot map a {names[arch]} checkpoint to {target!r}, which '
            f'takes {names[TARGET_ARCH[target]]} backbones'
            + (' (timm has no PVT-v1)' if target == 'timm' else ''))
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
    return backbone


def reference_backbone(converted: Dict[str, torch.Tensor],
                       target: str) -> Optional[torch.nn.Module]:
    """The target library's own backbone for these weights' architecture,
    or None if that library is not installed.

    The input size is read from the position embeddings. Heads are not
    stored in weights; they are set to ``dims // 64`` (ViT), which does not
    change any parameter shape. mmseg's ViT is built with ``patch_bias=True``
    (DeiT has one; mmseg's own recipes leave it out and drop it silently).
    """
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


def check_against(converted: Dict[str, torch.Tensor], target: str,
                  reference: torch.nn.Module) -> None:
    """Refuse weights that do not fill ``reference`` exactly.

    For ``'mmdet-pvt'`` the weights are first passed through mmdet's own
    ``pvt_convert``, as its ``init_weights`` does.

    Raises:
        CheckpointMismatchError: Naming missing, unexpected and mis-shaped
            keys.
    """
    weights = converted
    if target == 'mmdet-pvt':
        from mmdet.models.backbones.pvt import pvt_convert
        weights = pvt_convert(converted)
    problems = describe_mismatch(reference, weights)
    if problems:
        raise CheckpointMismatchError(
            f'the converted weights do not fit {target} '
            f'({type(reference).__name__}): {problems}')
