"""Checkpoints that carry every random state, so resuming is exact."""
from typing import Optional

from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import CheckpointHook, Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS

from mmsmmix.utils import (CheckpointMismatchError, check_checkpoint_fits,
                           global_rng_state, set_global_rng_state)

KEY = 'random_states'


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Save and restore every random state that shapes training.

    mmengine resumes the weights, optimizer, schedulers and sampler, but not
    the random generators, so a resumed run draws differently from the
    uninterrupted one. This hook adds to each checkpoint (key
    ``random_states``):

    - ``streams``: the model's synced streams (``random_streams()`` of
      ``MixImageClassifier``: the augment choice, SMMix's branch/region
      draws, ...), identical on every rank;
    - ``ranks``: per rank, the Python, numpy and torch (CPU/CUDA) global
      generators, which the data pipeline (in the main process), dropout and
      stochastic depth draw from.

    On ``--resume`` it restores them before the first resumed iteration and
    checks that the checkpoint's weights fit the model exactly. Validation
    during training runs on a copy of the global state, so how often one
    validates does not change training.

    Data-loader workers are reseeded by mmengine at every epoch unless
    ``persistent_workers=True``; with persistent workers their generators
    live in other processes and cannot be saved, so the resumed epochs'
    augmentations differ (a warning says so). ``IterBasedTrainLoop``
    replays the skipped batches through the pipeline after ``before_train``,
    so with ``num_workers=0`` its resumed draws differ too; epoch-based
    loops (all our configs) are exact.
    """

    priority = 'NORMAL'  # before CheckpointHook (VERY_LOW) in after_* calls

    def __init__(self):
        self._gathered: Optional[list] = None  # per-rank states, this step
        self._val_state: Optional[dict] = None
        self._loaded: Optional[dict] = None  # what before_train needs

    @staticmethod
    def _model(runner):
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def _streams(self, runner) -> dict:
        return getattr(self._model(runner), 'random_streams', dict)()

    def _gather(self, runner) -> None:
        """Collect every rank's global state (a collective: all ranks)."""
        if get_world_size() > 1:
            self._gathered = all_gather_object(global_rng_state())

    @staticmethod
    def _iteration_checkpoint_due(runner) -> bool:
        return any(
            isinstance(hook, CheckpointHook) and not hook.by_epoch and (
                hook.every_n_train_iters(runner, hook.interval,
                                         hook.save_begin) or
                (hook.save_last and hook.is_last_train_iter(runner)))
            for hook in runner.hooks)

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._gathered = None

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if self._iteration_checkpoint_due(runner):
            self._gather(runner)

    def after_train_epoch(self, runner) -> None:
        self._gather(runner)

    def before_val_epoch(self, runner) -> None:
        self._val_state = global_rng_state()

    def after_val_epoch(self, runner, metrics=None) -> None:
        if self._val_state is not None:
            set_global_rng_state(self._val_state)
            self._val_state = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        states = dict(streams={
            name: stream.state_dict()
            for name, stream in self._streams(runner).items()
        })
        if get_world_size() == 1:
            states['ranks'] = [global_rng_state()]
        elif self._gathered is not None:
            states['ranks'] = self._gathered
        else:
            runner.logger.warning(
                'RandomStateHook: this checkpoint was saved outside the '
                "hook's collection points, so it carries no per-rank "
                'global random states')
        checkpoint[KEY] = states

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        # Whether this is a resume shows only at before_train: keep what it
        # needs (not the whole checkpoint, which may hold optimizer state).
        try:
            check_checkpoint_fits(
                self._model(runner), checkpoint,
                'the checkpoint being resumed',
                hint='Resume only from a checkpoint of this config')
            misfit = None
        except CheckpointMismatchError as err:
            misfit = err
        self._loaded = dict(
            iter=checkpoint.get('meta', {}).get('iter'),
            states=checkpoint.get(KEY),
            misfit=misfit)

    def before_train(self, runner) -> None:
        loaded, self._loaded = self._loaded, None
        if loaded is None or runner.iter == 0 or loaded['iter'] != runner.iter:
            return  # not resuming (load_from keeps its fresh generators)
        if loaded['misfit'] is not None:
            raise loaded['misfit']
        states = loaded['states']
        if states is None:
            runner.logger.warning(
                'the resumed checkpoint carries no random states (saved '
                'without RandomStateHook): the run continues with fresh '
                'generators and will not equal an uninterrupted one')
            return
        streams = self._streams(runner)
        saved = states['streams']
        optional = getattr(self._model(runner), 'optional_streams',
                           set)()
        fresh = sorted(set(streams) - set(saved) & set(optional))
        if set(saved) != set(streams) - set(fresh):
            raise ValueError(
                'the resumed checkpoint has random streams '
                f'{sorted(saved)} but the model has {sorted(streams)}; '
                'resume with the config it was saved with')
        if fresh:
            runner.logger.warning(
                f'the resumed checkpoint has no random streams {fresh} '
                "(written before MMPretrain's augments drew from synced "
                'streams): they start fresh, so those augments draw '
                'differently from an uninterrupted run')
        for name, stream in streams.items():
            if name in saved:
                stream.load_state_dict(saved[name])
        ranks = states.get('ranks')
        if ranks is not None and len(ranks) == get_world_size():
            set_global_rng_state(ranks[get_rank()])
        else:
            runner.logger.warning(
                'the resumed checkpoint carries global random states for '
                f"{len(ranks or [])} ranks, this run has {get_world_size()}:"
                ' data augmentation draws will differ from an uninterrupted'
                ' run')
        if runner.train_dataloader.persistent_workers:
            runner.logger.warning(
                'persistent_workers=True: the data-loader workers cannot '
                'carry their random state across a resume, so augmentation '
                'draws of the resumed epochs differ from an uninterrupted '
                'run (set persistent_workers=False for exact resume)')
        runner.logger.info('restored the random states of the checkpoint')
