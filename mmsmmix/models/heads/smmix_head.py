"""Class-token head with SMMix's token head and region losses."""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
from mmpretrain.models.heads import VisionTransformerClsHead
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample


@MODELS.register_module()
class SMMixClsHead(VisionTransformerClsHead):
    """Drop-in ``VisionTransformerClsHead`` that adds SMMix's training terms.

    It takes ``out_type='raw'`` backbone tokens (B, E+N, C) (CLS first,
    patches last), plain class tokens (B, C), or the last stage's feature
    map (B, C, H, W) of a backbone without a class token (Swin, PVT-v2;
    no neck): the class feature is then the map's global average, as
    MMPretrain's ``GlobalAveragePooling`` neck gives the Swin classifier,
    and the tokens are its H*W positions. ``forward``/``predict`` use the
    class feature only, so testing is unchanged. In SMMix batches ``loss``
    adds:

    - ``loss_fine``: ``fine_weight * (CE(t, y_target) + CE(s, y_source)) / 2``
      where ``t``/``s`` are ``token_head`` logits of the mean final-norm patch
      tokens (final-stage positions) outside/inside the pasted region, each
      against its own region's
      pure label (CE is the head's ``loss`` module, so its ``loss_weight``
      applies here too, as the official code uses one criterion for both);
    - ``loss_con``: ``consistency`` between the mixed logits and the
      area-mixed unmixed logits.

    ``token_head`` is a separate Linear, initialised like the class head (by
    the head's ``init_cfg``), kept in checkpoints but idle at test time.

    Args:
        num_classes (int): Number of classes.
        in_channels (int): Token dimension.
        fine_weight (float): Weight of ``loss_fine``. Defaults to 1.0.
        consistency (dict): Config of the consistency loss. Defaults to
            ``dict(type='SMMixConsistencyLoss', loss_weight=1.0)``.
        **kwargs: Passed to ``VisionTransformerClsHead``.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 fine_weight: float = 1.0,
                 consistency: dict = dict(
                     type='SMMixConsistencyLoss', loss_weight=1.0),
                 **kwargs):
        super().__init__(num_classes, in_channels, **kwargs)
        self.fine_weight = fine_weight
        self.token_head = nn.Linear(in_channels, num_classes)
        self.consistency = MODELS.build(consistency)

    def pre_logits(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        """Class feature of the last stage (class token, or the feature
        map's mean), through the optional hidden layer."""
        feat = feats[-1]
        if feat.dim() == 3:
            feat = feat[:, 0]
        elif feat.dim() == 4:
            feat = feat.mean(dim=(2, 3))
        return super().pre_logits([feat])

    def loss(self,
             feats: Sequence[torch.Tensor],
             data_samples: List[DataSample],
             mix_info: Optional[dict] = None,
             **kwargs) -> dict:
        """Class loss, plus the fine and consistency losses in SMMix batches.

        Args:
            feats (tuple[Tensor]): Backbone outputs; the last is used.
            data_samples (list[DataSample]): Samples with ``gt_score`` (mixed
                labels) or ``gt_label``.
            mix_info (dict, optional): What ``SMMix`` returned for the batch.

        Returns:
            dict[str, Tensor]: ``loss_cls`` and, for SMMix batches,
            ``loss_fine`` and ``loss_con``.
        """
        cls_score = self(feats)
        losses = dict(loss_cls=self._get_loss(cls_score, data_samples,
                                              **kwargs)['loss'])
        if mix_info is None:
            return losses

        tokens = feats[-1]
        if tokens.dim() == 4:  # (B, C, H, W) -> (B, H*W, C), raster order
            tokens = tokens.flatten(2).transpose(1, 2)
        if tokens.dim() != 3:
            raise ValueError(
                'SMMixClsHead needs token outputs for SMMix batches: set '
                "model.backbone.out_type='raw' (or, for a backbone without "
                'a class token, give the head the last feature map: no '
                'neck)')
        source_mask = mix_info['source_mask']
        patches = tokens[:, -source_mask.shape[1]:]
        source = source_mask.unsqueeze(-1).to(patches.dtype)
        target = 1 - source
        target_feat = (patches * target).sum(1) / target.sum(1)
        source_feat = (patches * source).sum(1) / source.sum(1)
        batch = cls_score.size(0)
        loss_fine = 0.5 * (
            self.loss_module(
                self.token_head(target_feat),
                mix_info['target_score'],
                avg_factor=batch) + self.loss_module(
                    self.token_head(source_feat),
                    mix_info['source_score'],
                    avg_factor=batch))
        losses['loss_fine'] = self.fine_weight * loss_fine
        losses['loss_con'] = self.consistency(cls_score,
                                              mix_info['clean_logits'],
                                              mix_info['lam'])
        return losses
