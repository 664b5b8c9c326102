"""Mixed-precision training in bfloat16 on any device, CPUs included."""
from contextlib import contextmanager

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper
from mmpretrain.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class BFloat16AmpOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward runs under bfloat16 autocast on the
    model's device: mmengine's ``AmpOptimWrapper`` refuses CPUs, and
    bfloat16 (float32's exponent range) needs no loss scaling.

    What a GradScaler does for float16 it keeps for the non-finite guard: a
    step whose loss is not finite is not applied (no backward, no optimizer
    step, the gradients cleared), so ``model.train_cfg.nonfinite='skip'``
    skips under this wrapper as under ``AmpOptimWrapper``. ``tools/train.py
    --amp`` picks it on a machine without CUDA.

    Args:
        **kwargs: Those of ``OptimWrapper`` (``optimizer``, ``clip_grad``,
            ``accumulative_counts``).
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._skip = False
        self.skipped_steps = 0

    def backward(self, loss: torch.Tensor, **kwargs) -> None:
        """Back-propagate a finite loss; note a non-finite one instead."""
        if torch.isfinite(loss.detach()).all():
            loss.backward(**kwargs)
        else:
            self._skip = True
        self._inner_count += 1

    def step(self, **kwargs) -> None:
        """Step, unless a loss since the last step was not finite."""
        if self._skip:
            self._skip = False
            self.skipped_steps += 1
            self.zero_grad()
            return
        super().step(**kwargs)

    @contextmanager
    def optim_context(self, model: nn.Module):
        """The parent's context (gradient sync), plus bfloat16 autocast on
        the device of the model's parameters."""
        device = next(model.parameters()).device.type
        with super().optim_context(model), torch.autocast(
                device, dtype=torch.bfloat16):
            yield
