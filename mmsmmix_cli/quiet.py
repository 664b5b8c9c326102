"""The dependency warnings a user cannot act on, filtered by message and
module (never a blanket filter, never one of ours)."""
import warnings

# (message regex, category, module regex) of each warning filtered
DEPENDENCY_WARNINGS = (
    # mmengine 0.10 imports pkg_resources (setuptools < 81 is pinned for it)
    (r'pkg_resources is deprecated as an API', UserWarning,
     r'(mmengine\..*|importlib(\..*)?|pkg_resources(\..*)?)$'),
    (r'Deprecated call to `pkg_resources\.declare_namespace',
     DeprecationWarning, r'(pkg_resources(\..*)?|importlib(\..*)?)$'),
    # mmengine's DDP wrapper passes broadcast_buffers=False (torch 2.14)
    (r'`broadcast_buffers` is deprecated', FutureWarning,
     r'mmengine\.model\.wrappers\..*'),
    # mmcv-lite has no compiled ops (classification does not need them)
    (r'``MultiScaleDeformableAttention`` has been moved', ImportWarning,
     r'mmcv\.cnn\.bricks\.transformer$'),
)


def quiet_dependency_warnings() -> None:
    """Ignore :data:`DEPENDENCY_WARNINGS` (idempotent)."""
    for message, category, module in DEPENDENCY_WARNINGS:
        warnings.filterwarnings(
            'ignore', message=message, category=category, module=module)
