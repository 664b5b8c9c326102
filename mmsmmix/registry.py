"""The ``mmsmmix`` scope, so other projects' configs can inherit ours.

mmsmmix registers its modules in MMPretrain's registries (so
``custom_imports=dict(imports=['mmsmmix'])`` in any MMPretrain config finds
them). Inheriting a config by ``_base_ = ['mmsmmix::smmix/...py']`` needs
two more things from mmengine 0.10:

- the config loader must know the package name (``MODULE2PACKAGE``, a fixed
  table of OpenMMLab projects), and find ``mmsmmix/.mim/configs``;
- every ``type`` dict of such a base gets ``_scope_='mmsmmix'``, and building
  it looks for a registry of that scope under the root registry. The
  registries below are empty children of MMPretrain's, so a build in the
  ``mmsmmix`` scope finds every MMPretrain, mmengine and mmsmmix module
  through the parent chain.

Importing :mod:`mmsmmix` calls :func:`register_config_package`. A process
that never imports mmsmmix (another project's own ``train.py`` without it)
cannot resolve ``mmsmmix::``: mmengine only knows registered names.
"""
import os.path as osp

from mmengine.registry import Registry
from mmpretrain import registry as mmpretrain_registry

SCOPE = 'mmsmmix'


def _child(name: str) -> Registry:
    parent = getattr(mmpretrain_registry, name)
    return Registry(
        f'{parent.name} (mmsmmix scope)',
        parent=parent,
        scope=SCOPE,
        locations=['mmsmmix'])


RUNNERS = _child('RUNNERS')
RUNNER_CONSTRUCTORS = _child('RUNNER_CONSTRUCTORS')
LOOPS = _child('LOOPS')
HOOKS = _child('HOOKS')
LOG_PROCESSORS = _child('LOG_PROCESSORS')
OPTIMIZERS = _child('OPTIMIZERS')
OPTIM_WRAPPERS = _child('OPTIM_WRAPPERS')
OPTIM_WRAPPER_CONSTRUCTORS = _child('OPTIM_WRAPPER_CONSTRUCTORS')
PARAM_SCHEDULERS = _child('PARAM_SCHEDULERS')
DATASETS = _child('DATASETS')
DATA_SAMPLERS = _child('DATA_SAMPLERS')
TRANSFORMS = _child('TRANSFORMS')
MODELS = _child('MODELS')
MODEL_WRAPPERS = _child('MODEL_WRAPPERS')
WEIGHT_INITIALIZERS = _child('WEIGHT_INITIALIZERS')
BATCH_AUGMENTS = _child('BATCH_AUGMENTS')
TASK_UTILS = _child('TASK_UTILS')
TOKENIZER = _child('TOKENIZER')
METRICS = _child('METRICS')
EVALUATORS = _child('EVALUATORS')
VISUALIZERS = _child('VISUALIZERS')
VISBACKENDS = _child('VISBACKENDS')


#: Attention probes, one per backbone family (``mmsmmix.models.probes``):
#: ``build_attention_probe`` asks them, the latest registered first, which
#: accepts a backbone, so a family of one's own registers a probe without
#: editing ours (``@ATTENTION_PROBES.register_module()``).
ATTENTION_PROBES = Registry(
    'attention probe', scope=SCOPE, locations=['mmsmmix.models.probes'])


def package_dir() -> str:
    """The folder of the imported ``mmsmmix`` package (holds ``.mim/``)."""
    return osp.dirname(osp.abspath(__file__))


def config_dir() -> str:
    """Where ``mmsmmix::`` configs live: the installed package's
    ``.mim/configs``, or the checkout's ``configs/`` before any install."""
    mim = osp.join(package_dir(), '.mim', 'configs')
    if osp.isdir(mim):
        return mim
    return osp.join(osp.dirname(package_dir()), 'configs')


def resolve_config(name: str) -> str:
    """The file of a config named by path or as ``PACKAGE::path`` (as in
    ``_base_``: ``mmsmmix::smmix/deit-tiny_smmix_4xb256_in1k.py``,
    ``mmpretrain::deit/deit-small_4xb256_in1k.py``), from the installed
    package's ``.mim/configs``. Paths are returned as given."""
    if '::' not in name:
        return name
    package, _, relative = name.partition('::')
    if package == SCOPE:
        return osp.join(config_dir(), relative)
    from mmengine.utils import get_installed_path, is_installed
    if not is_installed(package):
        return name  # named as given by the caller's "not found"
    return osp.join(get_installed_path(package), '.mim', 'configs',
                    relative)


def tools_dir() -> str:
    """The command-line tools: the installed package's ``.mim/tools``, or
    the checkout's ``tools/``."""
    mim = osp.join(package_dir(), '.mim', 'tools')
    if osp.isdir(mim):
        return mim
    return osp.join(osp.dirname(package_dir()), 'tools')


def register_config_package() -> None:
    """Let mmengine's config loader resolve ``mmsmmix::`` paths.

    Adds the package to ``MODULE2PACKAGE``. mmengine 0.10 finds a package's
    folder as ``<distribution location>/<name>``, which for an editable
    (PEP 660) install is ``site-packages/mmsmmix``, a folder that does not
    exist; for ``mmsmmix`` the loader is given the imported package's own
    folder instead (the same folder for a regular install). Other packages
    are left to mmengine. Idempotent.
    """
    from mmengine.config import config as config_module
    from mmengine.config import utils as config_utils

    config_utils.MODULE2PACKAGE.setdefault(SCOPE, SCOPE)
    original = config_module.get_installed_path
    if getattr(original, 'mmsmmix_aware', False):
        return

    def get_installed_path(package: str) -> str:
        if package == SCOPE:
            return package_dir()
        return original(package)

    get_installed_path.mmsmmix_aware = True
    config_module.get_installed_path = get_installed_path
