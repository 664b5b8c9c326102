"""``CorruptionTestLoop``: top-1 under ImageNet-C style corruptions."""
import copy
from typing import Dict, List, Sequence, Union

import torch
from mmengine.evaluator import Evaluator
from mmpretrain.registry import LOOPS
from torch.utils.data import DataLoader

from ..robustness.corruptions import check_corruption, check_severity
from .multi_eval import MultiEvaluatorTestLoop


def insert_corruption(dataloader_cfg: dict, name: str, severity: int,
                      seed: int) -> dict:
    """Copy of a dataloader config with ``Corrupt`` before ``PackInputs``.

    Args:
        dataloader_cfg (dict): Test dataloader config whose ``dataset`` has
            a ``pipeline`` ending in (or containing) ``PackInputs``.
        name (str): Corruption name.
        severity (int): 1..5.
        seed (int): Base seed of ``Corrupt``.

    Returns:
        dict: The new config (the input is not modified).
    """
    cfg = copy.deepcopy(dataloader_cfg)
    pipeline = cfg.get('dataset', {}).get('pipeline')
    if pipeline is None:
        raise ValueError('corruption testing needs test_dataloader.dataset.'
                         'pipeline in the config')
    pack = [
        i for i, t in enumerate(pipeline)
        if isinstance(t, dict) and str(t.get('type', '')).split('.')[-1] ==
        'PackInputs'
    ]
    if not pack:
        raise ValueError('corruption testing inserts Corrupt before '
                         'PackInputs, but the test pipeline has none')
    pipeline = list(pipeline)
    pipeline.insert(
        pack[0],
        dict(type='Corrupt', name=name, severity=severity, seed=seed))
    cfg['dataset']['pipeline'] = pipeline
    return cfg


@LOOPS.register_module()
class CorruptionTestLoop(MultiEvaluatorTestLoop):
    """Evaluate the test set once per corruption, corrupted on the fly.

    For each corruption the test dataloader is rebuilt from its config with
    ``Corrupt(name, severity, seed)`` inserted before ``PackInputs``; each
    corruption has its own evaluator. ``mean/<metric>`` is the mean over the
    corruptions (the mean corruption accuracy for top-1).

    Args:
        runner (Runner): The runner.
        dataloader (dict): The test dataloader config (a built dataloader
            cannot be rebuilt with another pipeline).
        evaluator (Evaluator | dict | list): The test evaluator (or config).
        corruptions (Sequence[str]): Corruption names.
        severity (int): 1..5. Defaults to 3.
        seed (int): Base seed of the corruptions. Defaults to 0.
        fp16 (bool): Run the model under autocast. Defaults to False.

    ``run`` returns ``{'<name>/<metric>': value, 'mean/<metric>': value}``
    and keeps ``self.results = {name: {metric: value}}`` and ``self.mean``.
    """

    def __init__(self,
                 runner,
                 dataloader: Dict,
                 evaluator: Union[Evaluator, Dict, List],
                 corruptions: Sequence[str],
                 severity: int = 3,
                 seed: int = 0,
                 fp16: bool = False):
        if not isinstance(dataloader, dict):
            raise TypeError('CorruptionTestLoop needs the test dataloader '
                            f'as a config dict, got {type(dataloader)}')
        if not corruptions:
            raise KeyError('CorruptionTestLoop needs at least one '
                           'corruption')
        for name in corruptions:
            check_corruption(name)
        check_severity(severity)
        self._dataloader_cfg = copy.deepcopy(dataloader)
        self.corruptions = list(dict.fromkeys(corruptions))
        self.severity, self.seed = severity, int(seed)
        # Fail on a pipeline without PackInputs before anything runs.
        insert_corruption(dataloader, self.corruptions[0], severity, seed)
        super().__init__(runner, dataloader, evaluator, fp16)

    def _dataloader(self, name: str) -> DataLoader:
        cfg = insert_corruption(self._dataloader_cfg, name, self.severity,
                                self.seed)
        return self.runner.build_dataloader(
            cfg,
            seed=self.runner.seed,
            diff_rank_seed=self.runner._randomness_cfg.get(
                'diff_rank_seed', False))

    @torch.no_grad()
    def _evaluate(self, name: str) -> dict:
        evaluator = self.new_evaluator()
        dataloader = self._dataloader(name)
        model = self.core_model
        for idx, data_batch in enumerate(dataloader):
            self.runner.call_hook(
                'before_test_iter', batch_idx=idx, data_batch=data_batch)
            data = model.data_preprocessor(data_batch, False)
            outputs = self.predict(data, data['inputs'])
            evaluator.process(data_samples=outputs, data_batch=data_batch)
            self.runner.call_hook(
                'after_test_iter',
                batch_idx=idx,
                data_batch=data_batch,
                outputs=outputs)
        return evaluator.evaluate(len(dataloader.dataset))

    def run(self) -> dict:
        """Evaluate every corruption; return the flattened metrics."""
        self.runner.call_hook('before_test')
        self.runner.call_hook('before_test_epoch')
        self.runner.model.eval()
        self.results = {}
        for name in self.corruptions:
            self.results[name] = self._evaluate(name)
        keys = self.results[self.corruptions[0]]
        self.mean = {
            k: sum(m[k] for m in self.results.values()) / len(self.results)
            for k in keys
            if all(isinstance(m.get(k), (int, float))
                   for m in self.results.values())
        }
        metrics = self.flatten(dict(self.results, mean=self.mean))
        self.runner.call_hook('after_test_epoch', metrics=metrics)
        self.runner.call_hook('after_test')
        return metrics
