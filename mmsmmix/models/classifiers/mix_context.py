"""The model's services to its augments (``MixContext``), and its probe."""
from typing import Optional, Tuple

import torch
import torch.nn as nn

from mmsmmix.models.augments.base import MixContext
from mmsmmix.models.probes import (AttentionProbe, AttentionRecord,
                                   build_attention_probe)


class ClassifierContext(MixContext):
    """:class:`MixContext` of an image classifier (``backbone``, ``neck``,
    ``head``, ``extract_feat``), with the one attention probe of its
    backbone (built on first need).

    Args:
        model (nn.Module): The classifier.
    """

    def __init__(self, model: nn.Module):
        self._model = model
        self._probe: Optional[AttentionProbe] = None

    @property
    def probe(self) -> AttentionProbe:
        """The backbone's attention probe (TypeError if it has none)."""
        if self._probe is None:
            self._probe = build_attention_probe(self._model.backbone)
        return self._probe

    def configured_layout(
            self) -> Optional[Tuple[AttentionRecord, Tuple[int, int]]]:
        """The backbone's token layout and input size, if fixed."""
        return self.probe.configured_layout()

    def clean_forward(
            self,
            inputs: torch.Tensor,
            attn_stat: str = 'patch',
            dtype: torch.dtype = torch.float32
    ) -> Tuple[torch.Tensor, AttentionRecord]:
        """Eval-mode, no-grad forward of an unmixed batch.

        Dropout and stochastic depth are off, as in the official SMMix
        motivating pass, and the train/eval mode is restored afterwards.
        In float32 (the official pass) any enclosing autocast is switched
        off; another ``dtype`` runs the pass under autocast of that dtype on
        the inputs' device (the probes compute the attention map in float32
        from the low-precision queries and keys).

        Args:
            inputs (Tensor): (B, C, H, W) images.
            attn_stat (str): The attention statistic the caller will
                compute, so the probe reads its block.
            dtype (torch.dtype): Precision of the pass. Defaults to float32.

        Returns:
            tuple: Class logits (B, K) in float32 and the last block's
            attention.
        """
        model = self._model
        probe = self.probe
        was_training = model.training
        amp = torch.autocast(inputs.device.type, dtype=dtype,
                             enabled=dtype != torch.float32)
        model.eval()
        try:
            with torch.no_grad(), amp, probe.capture(attn_stat) as record:
                logits = model.head(model.extract_feat(inputs.float()))
        finally:
            model.train(was_training)
        return logits.float(), record

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Class logits of a forward in the model's mode, with gradient."""
        return self._model.head(self._model.extract_feat(inputs))

    def token_layout(self) -> AttentionRecord:
        """The backbone's configured token layout (grid, patch size, extra
        tokens)."""
        layout = self.configured_layout()
        if layout is None:
            raise ValueError(
                f'{type(self._model.backbone).__name__} has no fixed input '
                'size, so its patch size is unknown; set the backbone '
                'img_size')
        return layout[0]
