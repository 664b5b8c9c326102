"""mmsmmix: SMMix and related image-mixing methods for MMPretrain.

Importing the package (``custom_imports=dict(imports=['mmsmmix'])``)
registers its components in MMPretrain's registries, installs the safe
checkpoint loader and lets mmengine's config loader resolve
``mmsmmix::`` base configs.
"""
import importlib.util

from .version import __version__

# What pip cannot install for the user without replacing parts of an
# OpenMMLab environment (torch and the mmcv build are the environment's own);
# the same ranges as setup.py's `lite` / `mim` extras.
OPENMMLAB_STACK = {
    'torch': 'PyTorch>=2.5 (https://pytorch.org)',
    'mmengine': "mmengine>=0.10.0,<1.0.0",
    'mmcv': "mmcv>=2.0.0,<2.2.0 (or mmcv-lite for classification only)",
    'mmpretrain': "mmpretrain>=1.2.0,<1.3.0",
}


def _check_stack() -> None:
    missing = [
        what for module, what in OPENMMLAB_STACK.items()
        if importlib.util.find_spec(module) is None
    ]
    if missing:
        raise ImportError(
            'mmsmmix runs in an OpenMMLab 2.0 environment; missing: ' +
            ', '.join(missing) + '. Install torch first, then '
            '`pip install "mmsmmix[lite]"` (mmengine + mmcv-lite) or '
            '`mim install mmengine "mmcv>=2.0.0,<2.2.0"` (compiled ops, '
            'needed by mmseg/mmdet)')
    import torch
    from mmengine.utils import digit_version
    if digit_version(torch.__version__) < digit_version('2.5.0'):
        # Checkpoints load with weights_only=True and a narrow allow-list
        # (torch.serialization.safe_globals, new in 2.5).
        raise ImportError(
            f'mmsmmix needs PyTorch>=2.5, found {torch.__version__} '
            '(safe checkpoint loading uses torch.serialization.safe_globals)')


_check_stack()

from . import (datasets, engine, evaluation, models, ops,  # noqa: E402,F401
               utils)
from .registry import register_config_package  # noqa: E402
from .utils.moved import install_moved_module_finder  # noqa: E402

register_config_package()
install_moved_module_finder()

__all__ = ['__version__']
