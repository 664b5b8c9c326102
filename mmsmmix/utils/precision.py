"""Whether a device computes a low precision natively, and the ``'auto'``
choice that uses it only there.

bfloat16 autocast is a speed-up only where the hardware computes it: CUDA
GPUs of compute capability 8.0 and newer, x86 CPUs with AVX512-BF16 or AMX
under PyTorch's AVX-512 kernels. Elsewhere every bfloat16 tensor is
converted in software and autocast is a slowdown: with AVX2 kernels,
bfloat16 training took 14 to 16x and the bfloat16 SMMix motivating pass 5
to 7x the float32 time (docs/precision.md). The same holds for float16 on
CPUs without AMX-FP16.
"""
import functools
import os
import platform
import warnings
from dataclasses import dataclass
from typing import Optional, Union

import torch

#: oneDNN ISA caps (``ONEDNN_MAX_CPU_ISA``) that still allow its bfloat16
#: kernels.
_ONEDNN_BF16_ISAS = ('AVX512_CORE_BF16', 'AVX512_CORE_FP16',
                     'AVX512_CORE_AMX', 'AVX512_CORE_AMX_FP16', 'AVX10_1_512',
                     'AVX10_1_512_AMX', 'AVX10_1_512_AMX_FP16',
                     'AVX10_2_512', 'AVX10_2_512_AMX_2', 'ALL', 'DEFAULT')
#: Measured bfloat16 / float32 time with AVX2 kernels (docs/precision.md).
SLOWDOWN = '5x (SMMix motivating pass) to 15x (training step)'


class SlowPrecisionWarning(UserWarning):
    """A low precision was asked for where the device emulates it."""


@dataclass(frozen=True)
class PrecisionSupport:
    """Whether ``device`` computes ``dtype`` natively.

    Attributes:
        device (str): Device type (``'cpu'``, ``'cuda'``, ...).
        dtype (str): ``'bfloat16'`` or ``'float16'``.
        native (bool): Computed by the hardware (autocast is a speed-up).
        detail (str): What decided it, for messages (the CPU capability and
            extensions, or the GPU).
    """
    device: str
    dtype: str
    native: bool
    detail: str


def cpu_capability() -> str:
    """PyTorch's CPU kernel dispatch level (``'AVX512'``, ``'AVX2'``,
    ...); ``ATEN_CPU_CAPABILITY`` lowers it."""
    return torch.backends.cpu.get_cpu_capability()


def _cpu_flag(name: str) -> bool:
    probe = getattr(torch.cpu, name, None)
    try:
        return bool(probe()) if probe is not None else False
    except RuntimeError:
        return False


def _cpu_support(dtype: str) -> PrecisionSupport:
    capability = cpu_capability()
    if platform.machine().lower() not in ('x86_64', 'amd64', 'i386', 'i686'):
        native = dtype == 'bfloat16' and \
            torch.ops.mkldnn._is_mkldnn_bf16_supported()
        return PrecisionSupport('cpu', dtype, native,
                                f'{platform.machine()} CPU, {capability}')
    flags = (('_is_avx512_bf16_supported', 'AVX512-BF16'),
             ('_is_amx_tile_supported', 'AMX')) if dtype == 'bfloat16' \
        else (('_is_amx_fp16_supported', 'AMX-FP16'), )
    extensions = [name for flag, name in flags if _cpu_flag(flag)]
    wanted = ' or '.join(name for _, name in flags)
    detail = (f"CPU capability {capability} with {' and '.join(extensions)}"
              if extensions else
              f'CPU capability {capability} without {wanted}')
    isa_cap = os.environ.get('ONEDNN_MAX_CPU_ISA') or os.environ.get(
        'DNNL_MAX_CPU_ISA')
    native = capability.startswith('AVX512') and bool(extensions)
    if extensions and not native:
        detail = (f'CPU capability {capability}: PyTorch does not use its '
                  f"{' and '.join(extensions)}")
    if isa_cap and isa_cap.upper() not in _ONEDNN_BF16_ISAS:
        native = False
        detail += f', ONEDNN_MAX_CPU_ISA={isa_cap}'
    return PrecisionSupport('cpu', dtype, native, detail)


@functools.lru_cache(maxsize=None)
def precision_support(device: str, dtype: str = 'bfloat16'
                      ) -> PrecisionSupport:
    """Whether ``device`` (a type: ``'cpu'``, ``'cuda'``, ...) computes
    ``dtype`` (``'bfloat16'`` or ``'float16'``) natively."""
    if dtype not in ('bfloat16', 'float16'):
        raise ValueError(f"dtype must be 'bfloat16' or 'float16', got "
                         f'{dtype!r}')
    if device == 'cpu':
        return _cpu_support(dtype)
    if device == 'cuda':
        if not torch.cuda.is_available():
            return PrecisionSupport(device, dtype, False, 'no CUDA device')
        name = torch.cuda.get_device_name()
        major, minor = torch.cuda.get_device_capability()
        native = dtype == 'float16' or major >= 8
        return PrecisionSupport(device, dtype, native,
                                f'{name} (sm_{major}{minor})')
    return PrecisionSupport(device, dtype, True, f'{device}, not checked')


def default_device() -> str:
    """The device type a Runner trains on here (mmengine's choice)."""
    from mmengine.device import get_device
    return get_device()


def warn_if_emulated(owner: str, dtype: str,
                     device: Optional[str] = None) -> PrecisionSupport:
    """Warn in one line (:class:`SlowPrecisionWarning`) when ``owner`` asks
    for ``dtype`` on a device (by default the Runner's) that emulates it.

    Returns:
        PrecisionSupport: What was found.
    """
    support = precision_support(device or default_device(), dtype)
    if not support.native:
        warnings.warn(
            f'{owner}: {dtype} is not native on this {support.device} '
            f'({support.detail}), so it is slower than float32 here '
            f'(measured {SLOWDOWN} on an AVX2 CPU); use '
            f"'auto' to get {dtype} only where it is native",
            SlowPrecisionWarning, stacklevel=3)
    return support


def resolve_auto(choice: Union[str, bool], dtype: str,
                 device: str) -> bool:
    """Whether a ``True`` / ``False`` / ``'auto'`` low-precision choice
    uses ``dtype`` on ``device``: ``'auto'`` only where it is native."""
    if choice == 'auto':
        return precision_support(device, dtype).native
    return bool(choice)
