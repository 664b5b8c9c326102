"""PVT-v1 (Wang et al., ICCV 2021) as a classification backbone.

Four stages of spatial-reduction attention on a shrinking token grid
(strides 4, 8, 16, 32), a class token joined in stage 4, a final LayerNorm.
Parameter names are those of the official release (github.com/whai362/PVT,
``classification/pvt.py``): ``patch_embed{i}``, ``pos_embed{i}``,
``block{i}.{j}.attn.{q,kv,sr,norm,proj}``, ``norm``, ``cls_token``; so an
official PVT-v1 or SMMix-PVT ``state_dict`` loads with ``strict=True`` once
its ``head``/``token_head`` keys are split off.
"""
import copy
from typing import Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn.bricks import DropPath
from mmengine.model.weight_init import trunc_normal_
from mmpretrain.models.backbones.base_backbone import BaseBackbone
from mmpretrain.registry import MODELS


def _layer_norm(dims: int) -> nn.LayerNorm:
    return nn.LayerNorm(dims, eps=1e-6)


class SpatialReductionAttention(nn.Module):
    """Multi-head attention whose keys and values come from the token grid
    shrunk by ``sr_ratio`` (a strided conv, then LayerNorm).

    Args:
        dims (int): Token dimension.
        num_heads (int): Attention heads.
        sr_ratio (int): Spatial reduction of keys/values (1: none).
        drop (float): Dropout after the output projection.
    """

    def __init__(self, dims: int, num_heads: int, sr_ratio: int,
                 drop: float = 0.):
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dims // num_heads)**-0.5
        self.q = nn.Linear(dims, dims)
        self.kv = nn.Linear(dims, dims * 2)
        self.attn_drop = nn.Dropout(0.)
        self.proj = nn.Linear(dims, dims)
        self.proj_drop = nn.Dropout(drop)
        self.sr_ratio = sr_ratio
        if sr_ratio > 1:
            self.sr = nn.Conv2d(dims, dims, sr_ratio, stride=sr_ratio)
            self.norm = _layer_norm(dims)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, C) -> (B, heads, T, C / heads)."""
        b, t, c = x.shape
        return x.reshape(b, t, self.num_heads, c // self.num_heads).transpose(
            1, 2)

    def keys_values(self, x: torch.Tensor, h: int,
                    w: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """Keys and values (B, heads, T', C / heads) from the (reduced)
        tokens; a class token, if any, is only in stages with sr_ratio 1."""
        if self.sr_ratio > 1:
            b, t, c = x.shape
            grid = x.transpose(1, 2).reshape(b, c, h, w)
            x = self.norm(self.sr(grid).flatten(2).transpose(1, 2))
        k, v = self.kv(x).chunk(2, dim=-1)
        return self.split_heads(k), self.split_heads(v)

    def forward(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        q = self.split_heads(self.q(x))
        k, v = self.keys_values(x, h, w)
        attn = (q @ k.transpose(-2, -1) * self.scale).softmax(dim=-1)
        out = self.attn_drop(attn) @ v
        out = out.transpose(1, 2).flatten(2)
        return self.proj_drop(self.proj(out))


class Mlp(nn.Module):
    """Two linear layers with GELU (official names ``fc1``/``fc2``)."""

    def __init__(self, dims: int, hidden: int, drop: float = 0.):
        super().__init__()
        self.fc1 = nn.Linear(dims, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dims)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


class PVTBlock(nn.Module):
    """Pre-norm transformer block with spatial-reduction attention."""

    def __init__(self, dims: int, num_heads: int, mlp_ratio: int,
                 sr_ratio: int, drop: float, drop_path: float):
        super().__init__()
        self.norm1 = _layer_norm(dims)
        self.attn = SpatialReductionAttention(dims, num_heads, sr_ratio, drop)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else \
            nn.Identity()
        self.norm2 = _layer_norm(dims)
        self.mlp = Mlp(dims, dims * mlp_ratio, drop)

    def forward(self, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x), h, w))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class PatchEmbed(nn.Module):
    """Non-overlapping patches (a strided conv), then LayerNorm.

    Args:
        input_size (int): Side of the configured input (pixels or cells).
        patch_size (int): Side of one patch.
        in_channels (int): Input channels.
        dims (int): Token dimension.
    """

    def __init__(self, input_size: int, patch_size: int, in_channels: int,
                 dims: int):
        super().__init__()
        self.patch_size = patch_size
        self.grid = (input_size // patch_size, input_size // patch_size)
        self.proj = nn.Conv2d(in_channels, dims, patch_size, stride=patch_size)
        self.norm = _layer_norm(dims)

    def forward(self, x: torch.Tensor):
        x = self.proj(x)
        h, w = x.shape[-2:]
        return self.norm(x.flatten(2).transpose(1, 2)), (h, w)


@MODELS.register_module()
class PyramidVisionTransformerV1(BaseBackbone):
    """PVT-v1 Tiny / Small / Medium / Large for image classification.

    Args:
        arch (str | dict): ``'tiny'``, ``'small'``, ``'medium'``, ``'large'``,
            or a dict with ``depths`` (and optionally ``embed_dims``,
            ``num_heads``, ``mlp_ratios``, ``sr_ratios``, four entries each).
        img_size (int): Configured input side. Defaults to 224.
        in_channels (int): Input channels. Defaults to 3.
        drop_rate (float): Dropout after embeddings and projections.
        drop_path_rate (float): Stochastic depth, linear over all blocks.
        out_type (str): ``'cls_token'`` (B, C) or ``'raw'``: the final-norm
            stage-4 tokens (B, 1 + N, C), class token first.
        init_cfg (dict, optional): mmengine init config; None gives the
            official initialisation.
    """
    arch_zoo = {
        'tiny': dict(depths=[2, 2, 2, 2]),
        'small': dict(depths=[3, 4, 6, 3]),
        'medium': dict(depths=[3, 4, 18, 3]),
        'large': dict(depths=[3, 8, 27, 3]),
    }
    default_arch = dict(
        embed_dims=[64, 128, 320, 512],
        num_heads=[1, 2, 5, 8],
        mlp_ratios=[8, 8, 4, 4],
        sr_ratios=[8, 4, 2, 1])
    OUT_TYPES = ('cls_token', 'raw')

    def __init__(self,
                 arch='tiny',
                 img_size: int = 224,
                 in_channels: int = 3,
                 drop_rate: float = 0.,
                 drop_path_rate: float = 0.1,
                 out_type: str = 'cls_token',
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if isinstance(arch, str):
            if arch not in self.arch_zoo:
                raise ValueError(f'PVT-v1 arch must be one of '
                                 f'{sorted(self.arch_zoo)}, got {arch!r}')
            arch = self.arch_zoo[arch]
        arch = {**copy.deepcopy(self.default_arch), **arch}
        if out_type not in self.OUT_TYPES:
            raise ValueError(f'out_type must be one of {self.OUT_TYPES}, '
                             f'got {out_type!r}')
        if arch['sr_ratios'][-1] != 1:
            raise ValueError('stage 4 must have sr_ratio 1 (it holds the '
                             'class token)')
        self.out_type = out_type
        self.img_size = img_size
        dims = arch['embed_dims']
        depths = arch['depths']
        rates = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
        side, channels = img_size, in_channels
        for i in range(4):
            patch = 4 if i == 0 else 2
            embed = PatchEmbed(side, patch, channels, dims[i])
            tokens = embed.grid[0] * embed.grid[1] + (i == 3)
            setattr(self, f'patch_embed{i + 1}', embed)
            setattr(self, f'pos_embed{i + 1}',
                    nn.Parameter(torch.zeros(1, tokens, dims[i])))
            setattr(self, f'pos_drop{i + 1}', nn.Dropout(drop_rate))
            first = sum(depths[:i])
            setattr(
                self, f'block{i + 1}',
                nn.ModuleList(
                    PVTBlock(dims[i], arch['num_heads'][i],
                             arch['mlp_ratios'][i], arch['sr_ratios'][i],
                             drop_rate, rates[first + j])
                    for j in range(depths[i])))
            side, channels = side // patch, dims[i]
        self.norm = _layer_norm(dims[3])
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dims[3]))

    @property
    def patch_size(self) -> int:
        """Pixels per side of one stage-4 token: 4 x 2 x 2 x 2."""
        return 32

    def init_weights(self):
        """The official initialisation unless ``init_cfg`` says otherwise:
        truncated normal (std 0.02) for linear weights and the position
        embeddings and class token, zero biases, unit LayerNorms."""
        if self.init_cfg is not None:
            return super().init_weights()
        for i in range(4):
            trunc_normal_(getattr(self, f'pos_embed{i + 1}'), std=.02)
        trunc_normal_(self.cls_token, std=.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                trunc_normal_(m.weight, std=.02)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    @staticmethod
    def _resize(pos_embed: torch.Tensor, grid: Sequence[int], h: int,
                w: int) -> torch.Tensor:
        """(1, gh*gw, C) position embeddings, resized to (1, h*w, C)."""
        if (h, w) == tuple(grid):
            return pos_embed
        c = pos_embed.shape[-1]
        pos_embed = pos_embed.reshape(1, *grid, c).permute(0, 3, 1, 2)
        pos_embed = F.interpolate(pos_embed, size=(h, w), mode='bilinear')
        return pos_embed.flatten(2).transpose(1, 2)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        b = x.shape[0]
        for i in range(1, 5):
            embed = getattr(self, f'patch_embed{i}')
            pos_embed = getattr(self, f'pos_embed{i}')
            x, (h, w) = embed(x)
            if i == 4:
                x = torch.cat([self.cls_token.expand(b, -1, -1), x], dim=1)
                pos_embed = torch.cat([
                    pos_embed[:, :1],
                    self._resize(pos_embed[:, 1:], embed.grid, h, w)
                ], dim=1)
            else:
                pos_embed = self._resize(pos_embed, embed.grid, h, w)
            x = getattr(self, f'pos_drop{i}')(x + pos_embed)
            for block in getattr(self, f'block{i}'):
                x = block(x, h, w)
            if i < 4:
                x = x.transpose(1, 2).reshape(b, -1, h, w)
        x = self.norm(x)
        return (x, ) if self.out_type == 'raw' else (x[:, 0], )
