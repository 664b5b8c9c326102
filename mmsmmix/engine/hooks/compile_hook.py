"""``compile=`` in a config: compile the model's forwards, not its step."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS

from mmsmmix.engine.compiled_forward import (CompiledForward, compile_model,
                                             options_text)


def compile_options(compile_cfg) -> dict:
    """``torch.compile`` keyword arguments of a config's ``compile`` (True,
    or a dict of them); {} for True."""
    if compile_cfg is True:
        return {}
    if isinstance(compile_cfg, dict):
        return dict(compile_cfg)
    raise TypeError(f'compile must be True or a dict of torch.compile '
                    f'arguments, got {compile_cfg!r}')


@HOOKS.register_module()
class CompileHook(Hook):
    """Make ``compile=True`` (or ``compile=dict(backend=..., mode=...)``)
    compile the model's tensor work instead of its whole ``train_step``.

    With ``compile`` set, mmengine's ``Runner.train()`` replaces
    ``model.train_step`` by ``torch.compile(model.train_step, **compile)``.
    Dynamo then traces the augment choice and draws (numpy generators),
    attention probes, the non-finite guard and the optimizer: dozens of
    graph breaks, and with torch 2.14 a crash in the first ``AdamW.step``
    (``InternalTorchDynamoError`` on mmengine's parameter groups). Before
    the first iteration this hook undoes that and compiles the model's
    ``extract_feat`` (backbone and neck) with the same arguments
    (:meth:`MixImageClassifier.compile_forwards`, or
    :func:`compile_forwards` for MMPretrain's ``ImageClassifier``): every
    forward of a step goes through it, the rest stays eager, and a compile
    failure is logged and training goes on eagerly
    (:class:`~mmsmmix.engine.compiled_forward.CompiledForward`).

    Without ``compile`` in the config the hook does nothing.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        compile_cfg = runner.cfg.get('compile', None)
        if compile_cfg is None or compile_cfg is False:
            return
        options = compile_options(compile_cfg)
        wrapper = runner.model
        if getattr(vars(wrapper).get('train_step'),
                   '_torchdynamo_orig_callable', None) is not None:
            del wrapper.train_step  # mmengine's torch.compile(train_step)
        model = wrapper.module if is_model_wrapper(wrapper) else wrapper
        if isinstance(vars(model).get('extract_feat'), CompiledForward):
            return  # already compiled (a second train() call)
        if not (hasattr(model, 'extract_feat') and hasattr(model, 'backbone')):
            runner.logger.warning(
                f'compile={compile_cfg!r}: {type(model).__name__} has no '
                'extract_feat to compile; training runs eagerly')
            return
        forward = compile_model(model, options)
        runner.logger.info(
            f'compile: {forward.name} is compiled with torch.compile('
            f"{options_text(options) or 'defaults: inductor'}); the rest "
            'of train_step (augment draws, relabelling, losses, non-finite '
            'guard, optimizer) runs eagerly')
