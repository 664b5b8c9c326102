"""Mixed-precision training in bfloat16 on any device, CPUs included."""
from contextlib import contextmanager
from typing import Union

import torch
import torch.nn as nn
from mmengine.logging import MMLogger
from mmengine.optim import OptimWrapper
from mmpretrain.registry import OPTIM_WRAPPERS

from mmsmmix.utils.precision import (default_device, precision_support,
                                     resolve_auto, warn_if_emulated)


@OPTIM_WRAPPERS.register_module()
class BFloat16AmpOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward runs under bfloat16 autocast on the
    model's device: mmengine's ``AmpOptimWrapper`` refuses CPUs, and
    bfloat16 (float32's exponent range) needs no loss scaling.

    What a GradScaler does for float16 it keeps for the non-finite guard: a
    step whose loss is not finite is not applied (no backward, no optimizer
    step, the gradients cleared), so ``model.train_cfg.nonfinite='skip'``
    skips under this wrapper as under ``AmpOptimWrapper``. ``tools/train.py
    --amp`` picks it, with ``enabled='auto'``, on a machine without CUDA.

    bfloat16 is faster only where the hardware computes it (CUDA sm_80+,
    CPUs with AVX512-BF16 or AMX); elsewhere it is emulated and training is
    several times slower (15x measured on an AVX2 CPU). So ``enabled=True``
    on such a device warns when built, and ``enabled='auto'`` autocasts
    only where bfloat16 is native (float32 otherwise, said in the log).

    Args:
        enabled (bool | str): ``True`` (bfloat16 autocast), ``'auto'``
            (only where native, decided on the model's device) or
            ``False`` (float32, the guard kept). Defaults to True.
        **kwargs: Those of ``OptimWrapper`` (``optimizer``, ``clip_grad``,
            ``accumulative_counts``).
    """

    def __init__(self, enabled: Union[bool, str] = True, **kwargs):
        if enabled not in (True, False, 'auto'):
            raise ValueError('BFloat16AmpOptimWrapper enabled must be True, '
                             f"False or 'auto', got {enabled!r}")
        super().__init__(**kwargs)
        self.enabled = enabled
        if enabled is True:
            warn_if_emulated('BFloat16AmpOptimWrapper', 'bfloat16')
        elif enabled == 'auto':
            support = precision_support(default_device(), 'bfloat16')
            MMLogger.get_current_instance().info(
                "BFloat16AmpOptimWrapper(enabled='auto'): " +
                (f'bfloat16 autocast on {support.device} ({support.detail})'
                 if support.native else
                 f'float32 on {support.device}, where bfloat16 is not '
                 f'native ({support.detail})'))
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
        the device of the model's parameters (if enabled there)."""
        device = next(model.parameters()).device.type
        with super().optim_context(model), torch.autocast(
                device, dtype=torch.bfloat16,
                enabled=resolve_auto(self.enabled, 'bfloat16', device)):
            yield
