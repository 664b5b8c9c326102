"""Official SMMix release checkpoints -> ``MixImageClassifier`` weights.

The official ``main.py`` (DeiT's) saves a training checkpoint: ``model``
(DeiT: timm names; PVT: official PVT-v1 names; both plus ``token_head``),
``optimizer``, ``lr_scheduler``, ``epoch``, ``model_ema``, ``scaler`` and
``args`` (an ``argparse.Namespace``). Only ``model`` is converted; the EMA is
never updated by the official code, so it is not used.
"""
import argparse
import re
from collections import OrderedDict
from typing import Dict, List, Tuple

import torch
from mmpretrain.models.backbones import VisionTransformer

from mmsmmix.models.backbones import PyramidVisionTransformerV1
from mmsmmix.utils import (CheckpointMismatchError, count_numbered,
                           load_local_checkpoint)
from mmsmmix.utils.checkpoint import OFFICIAL_KEYS

HEADS = {'head.': 'head.layers.head.', 'token_head.': 'head.token_head.'}
# timm DeiT name -> MMPretrain VisionTransformer name (regex, replacement).
DEIT_RULES = [
    (r'^cls_token$', 'cls_token'),
    (r'^pos_embed$', 'pos_embed'),
    (r'^patch_embed\.proj\.', 'patch_embed.projection.'),
    (r'^blocks\.(\d+)\.norm1\.', r'layers.\1.ln1.'),
    (r'^blocks\.(\d+)\.attn\.qkv\.', r'layers.\1.attn.qkv.'),
    (r'^blocks\.(\d+)\.attn\.proj\.', r'layers.\1.attn.proj.'),
    (r'^blocks\.(\d+)\.norm2\.', r'layers.\1.ln2.'),
    (r'^blocks\.(\d+)\.mlp\.fc1\.', r'layers.\1.ffn.layers.0.0.'),
    (r'^blocks\.(\d+)\.mlp\.fc2\.', r'layers.\1.ffn.layers.1.'),
    (r'^norm\.', 'ln1.'),
]


def load_official_checkpoint(filename: str) -> dict:
    """Load a release file with ``weights_only=True``.

    Besides tensors and plain values, the file holds the training ``args``
    (an ``argparse.Namespace``): that one class is allowed, nothing else.

    Raises:
        CheckpointFileError: If the file is empty, truncated or not a
            checkpoint.
        CheckpointMismatchError: If it has no ``model`` state dict.
    """
    with torch.serialization.safe_globals([argparse.Namespace]):
        checkpoint = load_local_checkpoint(filename, map_location='cpu')
    if not isinstance(checkpoint, dict) or not isinstance(
            checkpoint.get('model'), dict):
        keys = list(checkpoint)[:5] if isinstance(checkpoint, dict) else []
        raise CheckpointMismatchError(
            f'{filename} is not an official SMMix checkpoint: expected a '
            f"dict with a 'model' state dict, got keys {keys}")
    return checkpoint


def _arch(model: Dict[str, torch.Tensor]) -> str:
    for arch, key in OFFICIAL_KEYS.items():
        if key in model:
            return arch
    raise CheckpointMismatchError(
        'not an official SMMix DeiT or PVT-v1 model: neither '
        f"{OFFICIAL_KEYS['deit']!r} (DeiT) nor {OFFICIAL_KEYS['pvt']!r} "
        f'(PVT-v1) is present; first keys: {list(model)[:5]}')


def _backbone_keys(arch: str, model: Dict[str, torch.Tensor]) -> List[str]:
    """Our backbone's keys for the architecture the weights describe."""
    if arch == 'deit':
        dims = model['cls_token'].shape[-1]
        backbone = VisionTransformer(
            arch=dict(
                embed_dims=dims,
                num_layers=count_numbered(model, r'^blocks\.(\d+)\.'),
                num_heads=max(dims // 64, 1),
                feedforward_channels=model['blocks.0.mlp.fc1.weight'].shape[
                    0]),
            img_size=224,
            patch_size=model['patch_embed.proj.weight'].shape[-1])
    else:
        depths = [
            count_numbered(model, rf'^block{i}\.(\d+)\.') for i in range(1, 5)
        ]
        backbone = PyramidVisionTransformerV1(arch=dict(depths=depths))
    return list(backbone.state_dict())


def convert_official_smmix(
        model: Dict[str, torch.Tensor]) -> Tuple[str, OrderedDict]:
    """Rename an official SMMix ``model`` state dict into ours.

    Args:
        model (dict): The release's ``checkpoint['model']``.

    Returns:
        tuple: The architecture (``'deit'`` or ``'pvt'``) and the
        ``MixImageClassifier`` state dict (``backbone.*``,
        ``head.layers.head.*``, ``head.token_head.*``), tensors only.

    Raises:
        CheckpointMismatchError: Naming missing and unexpected keys if the
            weights are not a whole official DeiT or PVT-v1 SMMix model.
    """
    arch = _arch(model)
    converted, unexpected = OrderedDict(), []
    for key, value in model.items():
        head = next((ours + key[len(theirs):]
                     for theirs, ours in HEADS.items()
                     if key.startswith(theirs)), None)
        if head is not None:
            converted[head] = value
            continue
        if arch == 'pvt':
            converted['backbone.' + key] = value
            continue
        for pattern, replacement in DEIT_RULES:
            if re.match(pattern, key):
                converted['backbone.' +
                          re.sub(pattern, replacement, key)] = value
                break
        else:
            unexpected.append(key)
    expected = ['backbone.' + k for k in _backbone_keys(arch, model)] + [
        ours + p for ours in HEADS.values() for p in ('weight', 'bias')
    ]
    missing = [k for k in expected if k not in converted]
    unexpected += [k for k in converted if k not in expected]
    if missing or unexpected:
        raise CheckpointMismatchError(
            f'official {arch} SMMix weights are incomplete or foreign: '
            f'{len(missing)} missing ({", ".join(missing[:3])}), '
            f'{len(unexpected)} unexpected ({", ".join(unexpected[:3])})')
    return arch, converted
