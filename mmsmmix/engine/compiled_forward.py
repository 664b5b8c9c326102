"""``torch.compile`` for a classifier's forward, never at training's cost.

What is compiled is the model's pure tensor work, ``extract_feat`` (backbone
and neck): every forward the classifier and its augments run goes through it
(the mixed batch, SMMix's clean eval-mode pass, TransMix's and MixPro's
relabelling forward, RankMixup's extra forwards, and validation). The rest
of the training step, in Python (augment choice and draws, masks, attention
relabelling, the head's losses, the non-finite guard, the optimizer), stays
eager: compiling it gains little and breaks the graph at every random draw.

Attention probes register forward hooks, with a fresh record, for each
capture. By default Dynamo does not guard on the hooks of submodules
(``skip_nnmodule_hook_guards``): a graph traced without hooks then also
serves calls with hooks, which never run, and one traced with a capture's
hooks writes into that capture's record forever. Guarding on them instead
would recompile at every capture (new hook objects). A
:class:`CompiledForward` therefore compiles with hook guards on and never
lets the graph run the hooks of others: it swaps each hooked module's
forward hooks for a stable tap that hands the module's inputs and output
out of the graph, and calls the original hooks on them afterwards, in the
order they would have fired. A forward traces into at most two graphs per
mode (with and without taps).

A compile or run failure of the compiled callable (including the compiled
backward, which is tried once per new kind of call) is logged as a warning
naming the model, the augment of the step and the exception; the call is
redone eagerly and the model stays eager for good.
"""
from collections import OrderedDict
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmengine.logging import MMLogger
from torch.utils._pytree import tree_leaves

__all__ = [
    'CompiledForward', 'compile_forwards', 'compile_model',
    'numpy_scalars_to_python', 'options_text'
]


def options_text(options: dict) -> str:
    """``backend='aot_eager', mode=...``: ``torch.compile`` arguments as
    written in a call (a function by its name; empty for the defaults)."""
    return ', '.join(
        f'{k}={v.__name__}' if callable(v) and hasattr(v, '__name__') else
        f'{k}={v!r}' for k, v in options.items())


def error_text(err: BaseException) -> str:
    """``Type: first line`` of an exception, and of its root cause (what a
    backend raised, inside Dynamo's ``BackendCompilerFailed``)."""

    def line(exc):
        lines = str(exc).strip().splitlines()
        return f'{type(exc).__name__}: {lines[0] if lines else ""}'.strip()

    root = err
    while root.__cause__ is not None and root.__cause__ is not root:
        root = root.__cause__
    inner = getattr(err, 'inner_exception', None)
    if root is err and isinstance(inner, BaseException):
        root = inner
    return line(err) if root is err else f'{line(err)} ({line(root)})'


def numpy_scalars_to_python(model: nn.Module) -> int:
    """Replace numpy scalar attributes of every submodule by Python numbers.

    MMPretrain's ViT builds its ``DropPath`` rates with ``np.linspace``;
    Dynamo traces a ``np.float64`` as an array, so ``drop_path``'s ``if
    drop_prob == 0.`` breaks the graph in every block. The values are
    unchanged (``np.float64`` is a ``float``).

    Returns:
        int: How many attributes were replaced.
    """
    count = 0
    for module in model.modules():
        for name, value in list(vars(module).items()):
            if isinstance(value, np.generic):
                setattr(module, name, value.item())
                count += 1
    return count


def _own_code(fn: Callable) -> Callable:
    """``fn`` called through a function with a code object of its own.

    Dynamo keeps compiled graphs, and counts recompiles against
    ``recompile_limit``, per code object: without this, every model whose
    ``extract_feat`` is compiled would share one cache (and one limit of
    8 graphs) in the process, e.g. the eleven models of a benchmark.
    """

    def forward(*args, **kwargs):
        return fn(*args, **kwargs)

    forward.__code__ = forward.__code__.replace()  # a new, equal code object
    return forward


class CompiledForward:
    """A compiled module function with an eager fallback.

    Args:
        fn (Callable): The eager function (e.g. ``model.extract_feat``).
        compile_cfg (dict): Keyword arguments of ``torch.compile``.
        owner (nn.Module): The module whose parameters ``fn`` uses (for the
            backward check).
        hooked (Sequence[tuple]): ``(name, module)`` of the modules whose
            forward hooks fire inside ``fn`` (e.g. the backbone and neck and
            all their submodules).
        describe (Callable, optional): ``describe() -> str``, what the
            current call is for (the step's augment), for the warning.
        name (str): The compiled function's name in messages.
    """

    def __init__(self,
                 fn: Callable,
                 compile_cfg: dict,
                 owner: nn.Module,
                 hooked: Sequence[Tuple[str, nn.Module]],
                 describe: Optional[Callable[[], str]] = None,
                 name: str = 'forward'):
        self.eager = fn
        self.compile_cfg = dict(compile_cfg)
        self.owner = owner
        self.hooked = list(hooked)
        self.describe = describe
        self.name = name
        #: The exception that sent the model back to eager (None: compiled).
        self.failure: Optional[BaseException] = None
        try:
            self.compiled = torch.compile(_own_code(fn), **self.compile_cfg)
        except Exception as err:  # noqa: B902 (bad options: stay eager)
            self._fall_back(err)
        self._checked = set()
        self._told_eager = set()
        # Filled by the taps from inside the compiled graph: one list object
        # for good, since a traced graph keeps the object it saw.
        self._tapped: List[tuple] = []
        self._taps = {}

    # Hooks ---------------------------------------------------------------

    def _tap(self, index: int) -> Callable:
        """The stable forward hook that records module ``index``'s call."""
        if index not in self._taps:
            tapped = self._tapped

            def tap(module, args, output):
                tapped.append((index, args, output))

            self._taps[index] = tap
        return self._taps[index]

    def _hook_plan(self) -> Tuple[Optional[list], Optional[str]]:
        """Which modules have forward hooks now, and whether the compiled
        forward can serve them.

        Returns:
            tuple: ``(plan, None)`` with the list of hooked module indices,
            or ``(None, why)`` when the call must run eagerly (hooks the
            taps cannot replay: pre-hooks, hooks with kwargs, backward or
            global hooks).
        """
        from torch.nn.modules import module as module_lib
        if (module_lib._global_forward_hooks
                or module_lib._global_forward_pre_hooks
                or module_lib._global_backward_hooks
                or getattr(module_lib, '_global_backward_pre_hooks', None)):
            return None, 'global module hooks are registered'
        plan = []
        for index, (name, module) in enumerate(self.hooked):
            if (module._forward_pre_hooks or module._backward_hooks
                    or getattr(module, '_backward_pre_hooks', None)):
                return None, f'{name} has pre- or backward hooks'
            if not module._forward_hooks:
                continue
            if any(getattr(module, '_forward_hooks_with_kwargs', {}).get(k)
                   for k in module._forward_hooks):
                return None, f'{name} has a forward hook with kwargs'
            plan.append(index)
        return plan, None

    def _call_compiled(self, args, kwargs):
        # Guards on submodule hooks, so that a graph traced with taps (or
        # without) serves only calls with the same taps (or none).
        with torch._dynamo.config.patch(skip_nnmodule_hook_guards=False):
            return self.compiled(*args, **kwargs)

    def _run_compiled(self, plan: list, args, kwargs):
        """The compiled call, the hooks of ``plan``'s modules replayed."""
        if not plan:
            return self._call_compiled(args, kwargs)
        originals = []
        for index in plan:
            module = self.hooked[index][1]
            originals.append((module, module._forward_hooks))
            module._forward_hooks = OrderedDict([(0, self._tap(index))])
        self._tapped.clear()
        try:
            out = self._call_compiled(args, kwargs)
            calls = list(self._tapped)
        finally:
            self._tapped.clear()
            for module, hooks in originals:
                module._forward_hooks = hooks
        for index, hook_args, output in calls:
            name, module = self.hooked[index]
            for hook in list(module._forward_hooks.values()):
                if hook(module, hook_args, output) is not None:
                    raise RuntimeError(
                        f'a forward hook of {name} replaces the module '
                        'output, which a compiled forward cannot apply')
        return out

    # Calls ---------------------------------------------------------------

    def _key(self, plan: list, args, kwargs) -> tuple:
        tensors = [
            (tuple(t.shape), t.dtype, t.device.type)
            for t in tree_leaves((args, kwargs)) if isinstance(t, torch.Tensor)
        ]
        device = tensors[0][2] if tensors else 'cpu'
        autocast = torch.is_autocast_enabled(device)
        return (torch.is_grad_enabled(), self.owner.training, tuple(plan),
                tuple(tensors), autocast,
                torch.get_autocast_dtype(device) if autocast else None)

    def _check_backward(self, out) -> None:
        """Run the compiled backward once (Inductor compiles it lazily, at
        the first ``backward()``, outside this call): gradients are taken
        with ``autograd.grad``, so no ``.grad`` changes."""
        outputs = [
            t for t in tree_leaves(out)
            if isinstance(t, torch.Tensor) and t.requires_grad
        ]
        params = [p for p in self.owner.parameters() if p.requires_grad]
        if not outputs or not params:
            return
        total = sum(t.float().sum() for t in outputs)
        torch.autograd.grad(
            total, params, allow_unused=True, retain_graph=True)

    def _mode(self, key: tuple) -> str:
        grad, training, plan = key[:3]
        words = ['train mode' if training else 'eval mode',
                 'with grad' if grad else 'no grad']
        if plan:
            words.append('forward hooks on ' + ', '.join(
                self.hooked[i][0] for i in plan))
        return ', '.join(words)

    def _fall_back(self, err: BaseException,
                   key: Optional[tuple] = None) -> None:
        self.failure = err
        self.compiled = None
        step = self.describe() if self.describe is not None else None
        during = f' in a {step} step' if step else ''
        mode = f' ({self._mode(key)})' if key is not None else ''
        MMLogger.get_current_instance().warning(
            f'torch.compile({options_text(self.compile_cfg)}) of '
            f'{self.name} failed{during}{mode}: {error_text(err)}. Falling '
            'back to eager for the rest of the run (training goes on, '
            'uncompiled).')

    def __call__(self, *args, **kwargs):
        if self.compiled is None or torch.compiler.is_compiling():
            return self.eager(*args, **kwargs)
        plan, why_eager = self._hook_plan()
        if plan is None:
            if why_eager not in self._told_eager:
                self._told_eager.add(why_eager)
                MMLogger.get_current_instance().info(
                    f'{self.name} runs eagerly while {why_eager}')
            return self.eager(*args, **kwargs)
        key = self._key(plan, args, kwargs)
        try:
            out = self._run_compiled(plan, args, kwargs)
            if key not in self._checked:
                if key[0]:
                    self._check_backward(out)
                self._checked.add(key)
        except Exception as err:  # noqa: B902 (any failure: go eager)
            out = self.eager(*args, **kwargs)  # the inputs' own error raises
            self._fall_back(err, key)
        return out

    def __repr__(self) -> str:
        state = 'eager (compile failed)' if self.compiled is None else \
            'compiled'
        return (f'CompiledForward({self.name}, '
                f'{options_text(self.compile_cfg)}, {state})')


def compile_forwards(model: nn.Module,
                     compile_cfg: Optional[dict] = None,
                     describe: Optional[Callable[[], str]] = None
                     ) -> CompiledForward:
    """Compile a classifier's ``extract_feat`` (backbone and neck) in place.

    ``model.extract_feat`` becomes a :class:`CompiledForward` (an instance
    attribute: ``del model.extract_feat`` undoes it); the augments' forwards
    call it too, through the model. Numpy scalar attributes become Python
    numbers first (:func:`numpy_scalars_to_python`).

    Args:
        model (nn.Module): An ``ImageClassifier`` (or anything with
            ``extract_feat`` and ``backbone``).
        compile_cfg (dict, optional): Keyword arguments of
            ``torch.compile``.
        describe (Callable, optional): What a call is for, for a failure's
            warning (e.g. the step's augment).

    Returns:
        CompiledForward: The new ``model.extract_feat``.
    """
    current = vars(model).get('extract_feat')
    if isinstance(current, CompiledForward):
        raise RuntimeError(f'{type(model).__name__}.extract_feat is '
                           'already compiled')
    numpy_scalars_to_python(model)
    hooked = []
    for part in ('backbone', 'neck'):
        sub = getattr(model, part, None)
        if isinstance(sub, nn.Module):
            hooked += [(f'{part}.{n}' if n else part, m)
                       for n, m in sub.named_modules()]
    forward = CompiledForward(
        model.extract_feat,
        compile_cfg or {},
        owner=model,
        hooked=hooked,
        describe=describe,
        name=f'{type(model).__name__}.extract_feat')
    model.extract_feat = forward
    return forward


def compile_model(model: nn.Module,
                  compile_cfg: Optional[dict] = None) -> CompiledForward:
    """Compile a classifier's forwards: its own ``compile_forwards`` (a
    ``MixImageClassifier``, whose warnings name the step's augment), else
    :func:`compile_forwards` (e.g. MMPretrain's ``ImageClassifier``)."""
    if hasattr(model, 'compile_forwards'):
        return model.compile_forwards(compile_cfg)
    return compile_forwards(model, compile_cfg)
