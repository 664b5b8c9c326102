"""Refuse a config's mistakes before anything is built or printed.

The tools call :func:`preflight` with the loaded config and the parsed
``--cfg-options`` (not yet merged). Each check raises a :class:`ConfigError`
(a :class:`~mmsmmix.utils.errors.UserError`: one line naming the key path,
what was expected and the fix or the close name):

- :func:`check_registered_types`: every string ``type=`` resolves in the
  registry it will be built from (``model`` and its parts in ``MODELS``,
  augments in ``BATCH_AUGMENTS``, datasets, transforms, samplers, hooks,
  metrics, loops, ...), in the config's ``default_scope`` (mmseg's and
  mmdet's registries for the dense configs, skipped when those packages are
  not installed) or the dict's ``_scope_``. A key path that cannot be mapped
  to a registry (e.g. mmdet's assigners, ``norm_cfg``) and ``init_cfg`` are
  skipped, never refused.
- :func:`check_cfg_options`: every ``--cfg-options`` key exists in the config
  at its parent (list indices as mmengine's ``merge_from_dict`` reads them).
  A NEW key is accepted only where a dict is open by design:

  * top level: the keys mmengine's Runner reads with a default
    (:data:`RUNNER_KEYS`: ``work_dir``, ``load_from``, ``resume``,
    ``compile``, ``randomness``, ``auto_scale_lr``, ...);
  * anything under ``env_cfg``, ``compile``, any ``init_cfg``,
    ``optim_wrapper.paramwise_cfg`` and ``optim_wrapper.clip_grad`` (keyword
    dicts passed on to torch or free-form), the hook names of
    ``default_hooks``, and a dense (mmseg/mmdet) model's ``train_cfg`` /
    ``test_cfg``;
  * a keyword argument of the class a ``type=`` dict builds (its
    constructor's signature, followed through ``**kwargs`` to its base
    classes; any key when the signature cannot be closed or the type not
    resolved), and of the class a type-less dict gets by default
    (dataloaders: ``torch.utils.data.DataLoader``; ``train_cfg``: the epoch
    and iteration loops; ``val_cfg``/``test_cfg``; ``optim_wrapper``;
    ``log_processor``; ``randomness``; ``auto_scale_lr``;
    ``data_preprocessor``; a classifier's ``model.train_cfg``: ``augments``,
    ``probs`` and, for ``MixImageClassifier``, ``nonfinite``).

  Any other new key is refused as the misspelling it is in practice.
- :func:`check_eval_split`: an evaluation dataset that reads the training
  files (MMPretrain's ``MNIST``/``FashionMNIST`` without ``test_mode=True``,
  a dataset choosing its files by ``split``, CIFAR's included, with
  ``split='train'``, or the training dataset's own paths) is refused.
"""
import copy
import importlib
import importlib.util
import inspect
import os.path as osp
from typing import Dict, Iterator, Optional, Set, Tuple

from .errors import UserError, did_you_mean


class ConfigError(UserError, ValueError):
    """A mistake in a config or in ``--cfg-options``, found before building
    anything."""


#: Top-level keys mmengine's Runner (``from_cfg``, ``wrap_model``,
#: ``setup_env``, ``_maybe_compile``, ...) and our tools read with a
#: default: ``--cfg-options`` may add them to a config that lacks them.
RUNNER_KEYS = frozenset({
    'model', 'work_dir', 'train_dataloader', 'val_dataloader',
    'test_dataloader', 'train_cfg', 'val_cfg', 'test_cfg', 'auto_scale_lr',
    'optim_wrapper', 'param_scheduler', 'val_evaluator', 'test_evaluator',
    'default_hooks', 'custom_hooks', 'data_preprocessor', 'load_from',
    'resume', 'launcher', 'env_cfg', 'log_processor', 'log_level',
    'visualizer', 'default_scope', 'randomness', 'experiment_name',
    'model_wrapper_cfg', 'find_unused_parameters', 'sync_bn', 'compile',
    'activation_checkpointing', 'efficient_conv_bn_eval', 'custom_imports'
})
#: Dicts open by design: any key below them may be new.
OPEN_KEYS = frozenset(
    {'env_cfg', 'compile', 'init_cfg', 'paramwise_cfg', 'clip_grad'})
DENSE_SCOPES = ('mmseg', 'mmdet')
# Positions that hold no registry's dicts (type-less containers).
_PSEUDO_KINDS = frozenset({
    'ROOT', 'DATALOADER', 'HOOK_DICT', 'EVALUATOR', 'MODEL_TRAIN_CFG',
    'MODEL_TEST_CFG', 'ROOT_KEYWORDS'
})

# Model parts built from MODELS (under `model` and its parts).
_MODEL_PARTS = frozenset({
    'backbone', 'neck', 'necks', 'head', 'heads', 'data_preprocessor',
    'consistency', 'decode_head', 'auxiliary_head', 'rpn_head', 'roi_head',
    'bbox_head', 'mask_head', 'bbox_roi_extractor', 'mask_roi_extractor',
    'semantic_head', 'panoptic_head', 'query_head', 'encoder', 'decoder'
})


def _one_line(text: str) -> str:
    return ' '.join(str(text).split())


def _close(name: str, names, prefix: str = '') -> str:
    return did_you_mean([name], sorted(set(names)), n=3, prefix=prefix)


# ----------------------------------------------------------------- registry
def _registry(kind: str, scope: Optional[str]):
    """The registry of ``kind`` (e.g. ``'MODELS'``) a build in ``scope``
    uses, or None when the scope's package is not installed."""
    from mmengine import registry as mmengine_registry
    root = getattr(mmengine_registry, kind, None)
    if scope and scope != 'mmengine':
        try:
            module = importlib.import_module(f'{scope}.registry')
        except ImportError:
            return None
        registry = getattr(module, kind, None)
        if registry is None and root is not None:
            registry = _scope_child(root, scope) or root
        return registry
    return root


def _scope_child(root, scope: str):
    """The registry below ``root`` (at any depth) of ``scope``, or None."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.scope == scope:
            return node
        stack.extend(node.children.values())
    return None


def _registry_names(registry) -> Set[str]:
    """Names reachable from ``registry``: its own, its ancestors' and its
    children's (the scopes below it)."""
    names: Set[str] = set()
    node = registry
    while node is not None:
        node.import_from_location()
        names.update(node.module_dict)
        node = node.parent
    stack = list(registry.children.values())
    while stack:
        child = stack.pop()
        names.update(child.module_dict)
        stack.extend(child.children.values())
    return names


def _resolve(registry, type_name: str):
    try:
        return registry.get(type_name)
    except (RuntimeError, KeyError):
        return None


# ------------------------------------------------------------- the schema
# A position in the config: the registry kind of the dicts found there
# (MODELS, ...) or a pseudo kind for type-less containers.
def _child_kind(kind: Optional[str], key: str) -> Optional[str]:
    """Kind of the value under ``key`` of a dict of ``kind`` (None: not
    mapped, skipped)."""
    if kind == 'ROOT':
        if key == 'model' or key == 'data_preprocessor':
            return 'MODELS'
        if key.endswith('_dataloader'):
            return 'DATALOADER'
        return {
            'optim_wrapper': 'OPTIM_WRAPPERS',
            'param_scheduler': 'PARAM_SCHEDULERS',
            'default_hooks': 'HOOK_DICT',
            'custom_hooks': 'HOOKS',
            'val_evaluator': 'EVALUATOR',
            'test_evaluator': 'EVALUATOR',
            'train_cfg': 'LOOPS',
            'val_cfg': 'LOOPS',
            'test_cfg': 'LOOPS',
            'visualizer': 'VISUALIZERS',
            'log_processor': 'LOG_PROCESSORS',
            'model_wrapper_cfg': 'MODEL_WRAPPERS',
        }.get(key)
    if key == 'init_cfg':
        return None
    if kind == 'MODELS':
        if key in _MODEL_PARTS or key.startswith('loss'):
            return 'MODELS'
        if key == 'train_cfg':
            return 'MODEL_TRAIN_CFG'
        if key == 'batch_augments':
            return 'MODEL_TRAIN_CFG'
        return None
    if kind == 'MODEL_TRAIN_CFG':
        return 'BATCH_AUGMENTS' if key == 'augments' else None
    if kind == 'BATCH_AUGMENTS':
        return 'MODELS' if key.startswith('loss') else None
    if kind == 'DATALOADER':
        return {
            'dataset': 'DATASETS',
            'sampler': 'DATA_SAMPLERS',
            'batch_sampler': 'DATA_SAMPLERS',
            'collate_fn': 'FUNCTIONS'
        }.get(key)
    if kind == 'DATASETS':
        if key in ('dataset', 'datasets'):
            return 'DATASETS'
        return 'TRANSFORMS' if key == 'pipeline' else None
    if kind == 'TRANSFORMS':
        return 'TRANSFORMS' if key == 'transforms' else None
    if kind == 'OPTIM_WRAPPERS':
        return 'OPTIMIZERS' if key == 'optimizer' else None
    if kind == 'VISUALIZERS':
        return 'VISBACKENDS' if key == 'vis_backends' else None
    if kind == 'HOOK_DICT':
        return 'HOOKS'
    if kind in ('EVALUATOR', 'EVALUATORS'):  # dict(metrics=[...])
        return 'METRICS' if key == 'metrics' else None
    return None


def _entries(value, path: str) -> Iterator[Tuple[dict, str]]:
    """Dicts of ``value``: itself, or the items of (nested) lists."""
    if isinstance(value, dict):
        yield value, path
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _entries(item, f'{path}[{i}]')


def _dict_kind(kind: str, node: dict) -> str:
    """The registry kind of a dict found at a position of ``kind``."""
    if kind == 'EVALUATOR':
        return 'EVALUATORS' if 'metrics' in node else 'METRICS'
    return kind


def _is_registry_kind(kind: Optional[str]) -> bool:
    return kind is not None and kind not in _PSEUDO_KINDS


def _as_dict(cfg) -> dict:
    """The ``ConfigDict`` of a ``Config`` (a dict), or ``cfg`` itself."""
    return getattr(cfg, '_cfg_dict', cfg)


def _default_scope(cfg) -> Optional[str]:
    scope = cfg.get('default_scope')
    return scope if isinstance(scope, str) and scope else None


def _import_custom(cfg) -> None:
    custom = cfg.get('custom_imports')
    if isinstance(custom, dict) and custom.get('imports'):
        from mmengine.utils import import_modules_from_strings
        import_modules_from_strings(**custom)


# ------------------------------------------------------------- 1. the types
def check_registered_types(cfg) -> None:
    """Raise if a string ``type=`` of ``cfg`` is not registered where it
    will be built (see the module docstring for the key paths checked).

    Args:
        cfg (Config | dict): The config, as loaded.

    Raises:
        ConfigError: ``<key path>.type='X' is not registered in
            <scope>::<registry>; did you mean 'Y'?``
    """
    scope = _default_scope(cfg)
    if scope in DENSE_SCOPES and importlib.util.find_spec(scope) is None:
        return  # the dense package is not installed: nothing to check with
    _import_custom(cfg)
    for key, value in cfg.items():
        kind = _child_kind('ROOT', key)
        if kind is not None:
            _check_types(value, key, kind, scope)


def _check_types(value, path: str, kind: str, scope: Optional[str]) -> None:
    for node, where in _entries(value, path):
        node_scope = node.get('_scope_') or scope
        dict_kind = _dict_kind(kind, node)
        type_name = node.get('type')
        if isinstance(type_name, str) and _is_registry_kind(dict_kind):
            registry = _registry(dict_kind, node_scope)
            if registry is None:
                continue  # a scope whose package is not installed
            if _resolve(registry, type_name) is None:
                _, real = registry.split_scope_key(type_name)
                prefix = type_name[:-len(real)] if real != type_name else ''
                raise ConfigError(
                    f'{where}.type={type_name!r} is not registered in '
                    f'{registry.scope}::{registry.name}' +
                    _close(real, _registry_names(registry), prefix))
        for key, child in node.items():
            child_kind = _child_kind(dict_kind, key)
            if child_kind is not None:
                _check_types(child, f'{where}.{key}', child_kind, node_scope)


# ---------------------------------------------------------- 2. cfg-options
def _signature_keywords(obj) -> Optional[Set[str]]:
    """Keyword arguments ``obj`` (a class or function) accepts; None when
    they cannot be told (``**kwargs`` that reach no closed signature)."""
    import torch
    if inspect.isclass(obj):
        names: Set[str] = set()
        for klass in obj.__mro__:
            if klass is object:
                return None
            if '__init__' not in vars(klass):
                continue
            if klass is torch.nn.Module:
                return names  # refuses unexpected keywords
            try:
                params = inspect.signature(klass.__init__).parameters
            except (TypeError, ValueError):
                return None
            names.update(n for n, p in params.items()
                         if p.kind in (p.POSITIONAL_OR_KEYWORD,
                                       p.KEYWORD_ONLY) and n != 'self')
            if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
                return names
        return None
    try:
        params = inspect.signature(obj).parameters
    except (TypeError, ValueError):
        return None
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return None
    return {
        n
        for n, p in params.items()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }


def _typeless_keywords(kind: Optional[str], key: str, scope,
                       owner) -> Optional[Set[str]]:
    """Keywords a type-less dict at a position of ``kind`` accepts, by the
    class it is built as by default (None: any key)."""
    from mmengine.runner import (EpochBasedTrainLoop, IterBasedTrainLoop,
                                 LogProcessor, Runner, TestLoop, ValLoop)
    if kind == 'DATALOADER':
        from torch.utils.data import DataLoader
        return _signature_keywords(DataLoader)
    if kind == 'LOOPS':
        loops = {
            'train_cfg': (EpochBasedTrainLoop, IterBasedTrainLoop),
            'val_cfg': (ValLoop, ),
            'test_cfg': (TestLoop, )
        }[key]
        names = {'by_epoch'} if key == 'train_cfg' else set()
        for loop in loops:
            names |= _signature_keywords(loop) or set()
        return names - {'runner', 'dataloader', 'evaluator'}
    if kind == 'OPTIM_WRAPPERS':
        from mmengine.optim import OptimWrapper
        return _signature_keywords(OptimWrapper) | {
            'constructor', 'paramwise_cfg'
        }
    if kind == 'LOG_PROCESSORS':
        return _signature_keywords(LogProcessor)
    if kind == 'VISUALIZERS':
        from mmengine.visualization import Visualizer
        return _signature_keywords(Visualizer)
    if kind == 'ROOT_KEYWORDS':
        if key == 'randomness':
            return _signature_keywords(Runner.set_randomness) - {'self'}
        return {'enable', 'base_batch_size'}  # auto_scale_lr
    if kind == 'MODELS' and key == 'data_preprocessor':
        registry = _registry('MODELS', scope)
        default = registry and _resolve(registry, 'ClsDataPreprocessor')
        return _signature_keywords(default) if default else None
    if kind in ('MODEL_TRAIN_CFG', 'MODEL_TEST_CFG'):
        if key == 'batch_augments':  # RandomBatchAugment's
            return {'augments', 'probs'}
        try:
            from mmpretrain.models import ImageClassifier
        except ImportError:  # pragma: no cover
            return None
        if not (inspect.isclass(owner) and issubclass(owner,
                                                      ImageClassifier)):
            return None  # a dense model's free-form train_cfg / test_cfg
        names = {'augments', 'probs'}
        if any(c.__name__ == 'MixImageClassifier' for c in owner.__mro__):
            names.add('nonfinite')
        return names
    return set()


def _node_class(node: dict, kind: Optional[str], scope):
    """(the class a ``type=`` dict builds or None, whether it is known)."""
    type_name = node.get('type')
    if type_name is None:
        return None, True
    if not isinstance(type_name, str):
        return type_name, True
    dict_kind = _dict_kind(kind, node) if kind else None
    if not _is_registry_kind(dict_kind):
        return None, False
    registry = _registry(dict_kind, node.get('_scope_') or scope)
    cls = registry and _resolve(registry, type_name)
    return cls, cls is not None


def _accepted(node: dict, key: str, kind: Optional[str], scope, owner,
              open_tree: bool) -> Optional[Set[str]]:
    """New keys a dict of the config accepts (None: any)."""
    if open_tree or key in OPEN_KEYS or kind == 'HOOK_DICT':
        return None
    cls, known = _node_class(node, kind, scope)
    if not known:
        return None
    if cls is not None:
        names = _signature_keywords(cls)
        if names is not None and _dict_kind(kind, node) == 'OPTIM_WRAPPERS':
            names |= {'constructor', 'paramwise_cfg'}
        return names
    if kind is None:
        return set()
    return _typeless_keywords(kind, key, scope, owner)


def check_cfg_options(cfg, cfg_options: Optional[Dict]) -> None:
    """Raise if a ``--cfg-options`` key does not exist in ``cfg`` (not yet
    merged) and may not be added there (see the module docstring).

    Args:
        cfg (Config | dict): The config, before the options are merged.
        cfg_options (dict | None): ``{'a.b.0.c': value}`` as parsed by
            mmengine's ``DictAction``.

    Raises:
        ConfigError: ``--cfg-options KEY=VALUE: <what is wrong>; did you
            mean ...?``
    """
    if not cfg_options:
        return
    scope = _default_scope(cfg)
    # A dense config whose package is missing: its classes are unknown.
    unknown = scope in DENSE_SCOPES and importlib.util.find_spec(
        scope) is None
    if not unknown:
        _import_custom(cfg)
    for full_key, value in cfg_options.items():
        _check_option(cfg, str(full_key), value, scope, unknown)


_OPEN_HINT = (' (new keys are accepted only under: the top-level keys '
              "the Runner reads, env_cfg, compile, init_cfg, paramwise_cfg, "
              'clip_grad, default_hooks, and the arguments of the type '
              'built there; add others to the config file)')


def _check_option(cfg, full_key: str, value, scope, unknown: bool) -> None:
    shown = f'--cfg-options {full_key}={_one_line(repr(value))}'
    parts = full_key.split('.')
    node = _as_dict(cfg)
    kind: Optional[str] = 'ROOT'
    key = ''  # the key `node` was found under
    owner = None  # the class of the nearest dict with a type above
    open_tree = unknown
    for depth, part in enumerate(parts):
        here = '.'.join(parts[:depth])
        if isinstance(node, (list, tuple)):
            last = len(node) - 1
            if not part.isdigit():
                raise ConfigError(
                    f"{shown}: '{here}' is a list of {len(node)}, so "
                    f'{part!r} is no key of it; address an item by its '
                    f'index ({here}.0 .. {here}.{last})')
            if int(part) > last:
                raise ConfigError(
                    f"{shown}: index {part} is out of range: '{here}' is a "
                    f'list of {len(node)} (indices 0..{last})')
            node = node[int(part)]
            continue
        if not isinstance(node, dict):
            raise ConfigError(
                f"{shown}: '{here}' is {_one_line(repr(node))} "
                f'({type(node).__name__}), not a dict, so it has no key '
                f"{part!r}; set '{here}' itself or edit the config file")
        if depth == 0:
            accepted: Optional[Set[str]] = set(RUNNER_KEYS)
        else:
            accepted = _accepted(node, key, kind, scope, owner, open_tree)
            cls, known = _node_class(node, kind, scope)
            if cls is not None:
                owner = cls
            # below an open dict (or a type we cannot resolve), every
            # existing dict is open too
            open_tree = open_tree or key in OPEN_KEYS or not known or (
                kind in ('MODEL_TRAIN_CFG', 'MODEL_TEST_CFG')
                and accepted is None)
        if part not in node:
            if accepted is None or part in accepted:
                return  # everything below a new key is new
            where = f"under '{here}'" if here else 'at the top level'
            raise ConfigError(
                f'{shown}: the config has no key {part!r} {where}' +
                _close(part, set(map(str, node)) | (accepted or set())) +
                _OPEN_HINT)
        if isinstance(node.get('_scope_'), str):
            scope = node['_scope_']
        child_kind = _child_kind(kind, part) if kind else None
        if depth == 0 and part in ('randomness', 'auto_scale_lr'):
            child_kind = 'ROOT_KEYWORDS'
        if kind == 'MODELS' and part == 'test_cfg':
            child_kind = 'MODEL_TEST_CFG'
        node, kind, key = node[part], child_kind, part
    _check_value_type(shown, node, value)


def _check_value_type(shown: str, old, new) -> None:
    """A number or a switch of the config set to something else (``abc``
    for ``train_cfg.max_epochs``, ``1`` for ``compile``) is a typo."""
    if isinstance(old, bool):
        expected, ok = 'True or False', isinstance(new, bool)
    elif isinstance(old, (int, float)):
        expected = 'a number'
        ok = isinstance(new, (int, float)) and not isinstance(new, bool)
    else:
        return
    if not ok:
        raise ConfigError(
            f'{shown}: expected {expected} (the config has {old!r}), got '
            f'the {type(new).__name__} {new!r}')


# ------------------------------------------------------------ 3. eval split
def _leaf_datasets(value, path: str) -> Iterator[Tuple[dict, str]]:
    """The datasets that read files, wrappers (``dataset``/``datasets``)
    opened."""
    for node, where in _entries(value, path):
        inner = [(k, node[k]) for k in ('dataset', 'datasets') if k in node]
        if inner:
            for k, v in inner:
                yield from _leaf_datasets(v, f'{where}.{k}')
        else:
            yield node, where


def _param_default(cls, name: str):
    try:
        param = inspect.signature(cls).parameters.get(name)
    except (TypeError, ValueError):
        return None
    if param is None or param.default is inspect.Parameter.empty:
        return None
    return param.default


def _files(node: dict) -> Tuple:
    """What a generic dataset reads: its resolved paths (as mmengine's
    BaseDataset joins them) and split."""
    root = node.get('data_root') or ''

    def under_root(path):
        if not isinstance(path, str) or not path:
            return path or ''
        return osp.normpath(path if osp.isabs(path) or not root else osp.
                            join(root, path))

    prefix = node.get('data_prefix') or ''
    if isinstance(prefix, dict):
        prefix = tuple(sorted((k, under_root(v)) for k, v in prefix.items()))
    else:
        prefix = under_root(prefix)
    return (node.get('type'), osp.normpath(root) if root else '',
            under_root(node.get('ann_file')), prefix, node.get('split', ''))


def check_eval_split(cfg) -> None:
    """Raise if an evaluation dataset (``val_dataloader.dataset``,
    ``test_dataloader.dataset``) reads the training files.

    Refused: MMPretrain's ``MNIST`` and ``FashionMNIST`` (their files
    follow ``test_mode``, not ``split``) without ``test_mode=True``; a
    dataset that chooses its files by ``split`` (``FashionMNISTIdx``,
    ``CIFAR10``/``CIFAR100`` in MMPretrain 1.2, ``CUB``, ...) with
    ``split='train'`` (given or by default); any other dataset whose
    ``type``, ``data_root``, ``ann_file``, ``data_prefix`` and ``split``
    resolve as the training dataset's.

    Raises:
        ConfigError: Naming the key path, the dataset type and the fix.
    """
    scope = _default_scope(cfg)
    if scope in DENSE_SCOPES and importlib.util.find_spec(scope) is None:
        registry = None
    else:
        _import_custom(cfg)
        registry = _registry('DATASETS', scope)
    by_test_mode: Tuple = ()
    try:
        # mmpretrain 1.2: MNIST and FashionMNIST load by test_mode;
        # CIFAR10/100 by split (test_mode only warns)
        from mmpretrain.datasets import MNIST
        by_test_mode = (MNIST, )
    except ImportError:  # pragma: no cover
        pass
    train = cfg.get('train_dataloader')
    train_files = set()
    if isinstance(train, dict):
        train_files = {
            _files(node)
            for node, _ in _leaf_datasets(train.get('dataset'), '')
        }
    for loader in ('val_dataloader', 'test_dataloader'):
        loader_cfg = cfg.get(loader)
        if not isinstance(loader_cfg, dict):
            continue
        for node, where in _leaf_datasets(
                loader_cfg.get('dataset'), f'{loader}.dataset'):
            type_name = node.get('type')
            cls = type_name if not isinstance(type_name, str) else (
                registry and _resolve(
                    _registry('DATASETS', node.get('_scope_') or scope)
                    or registry, type_name))
            name = getattr(cls, '__name__', type_name)
            if inspect.isclass(cls) and issubclass(cls, by_test_mode):
                if not node.get('test_mode', False):
                    raise ConfigError(
                        f'{where}: {name} chooses its files by test_mode, '
                        f"not split, so without test_mode=True (split="
                        f"{node.get('split', 'train')!r}) it evaluates on "
                        f'the training images; set {where}.test_mode=True')
                continue
            if inspect.isclass(cls) and 'split' in (
                    _signature_keywords(cls) or ()):
                split = node.get('split', _param_default(cls, 'split'))
                if split == 'train':
                    raise ConfigError(
                        f"{where}: {name}(split='train') reads the training "
                        f"files; set {where}.split='test' (or the "
                        "dataset's evaluation split)")
            if _files(node) in train_files and any(_files(node)[1:4]):
                raise ConfigError(
                    f'{where}: {name} reads the same files as the training '
                    f'dataset (data_root, ann_file, data_prefix and split '
                    f"are the same); point it at the evaluation split "
                    f'({where}.ann_file / data_prefix / split)')


# ---------------------------------------------------------------- preflight
def preflight(cfg, cfg_options: Optional[Dict] = None) -> None:
    """Run every check, before anything is built or printed.

    :func:`check_registered_types` on the config as loaded, then
    :func:`check_cfg_options` against it (before the caller merges the
    options), then, on a copy with the options merged, the types again
    (an option may set a ``type``) and :func:`check_eval_split`.

    Args:
        cfg (Config): The config as loaded, options not merged.
        cfg_options (dict, optional): The parsed ``--cfg-options``.

    Raises:
        ConfigError: The first mistake found, in one line.
    """
    check_registered_types(cfg)
    check_cfg_options(cfg, cfg_options)
    if cfg_options:
        merged = copy.deepcopy(cfg)
        try:
            merged.merge_from_dict(cfg_options)
        except (TypeError, KeyError, AttributeError) as err:
            # e.g. `compile=True compile.backend=x`: one option sets a
            # value, another a key below it
            raise ConfigError(f'--cfg-options cannot be merged into the '
                              f'config: {_one_line(err)}') from err
        check_registered_types(merged)
        cfg = merged
    check_eval_split(cfg)
