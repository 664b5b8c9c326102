"""Shared glue of the robustness test loops (not registered)."""
import copy
from typing import Dict, List, Sequence, Union

import torch
from mmengine.evaluator import Evaluator
from mmengine.model import is_model_wrapper
from mmengine.runner import TestLoop, autocast
from torch.utils.data import DataLoader


class MultiEvaluatorTestLoop(TestLoop):
    """``TestLoop`` that scores several variants of the test set.

    Subclasses run their own passes; each variant gets a fresh evaluator
    built from the test evaluator's config, so metrics never mix.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The test dataloader (or its config).
        evaluator (Evaluator | dict | list): The test evaluator (or config).
        fp16 (bool): Run the model under autocast. Defaults to False.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 fp16: bool = False):
        self._evaluator_proto = copy.deepcopy(evaluator)
        super().__init__(runner, dataloader, evaluator, fp16)
        #: Metrics of each variant, filled by ``run``.
        self.results: Dict = {}

    @property
    def core_model(self) -> torch.nn.Module:
        """The runner's model without its DDP/FSDP wrapper."""
        model = self.runner.model
        return model.module if is_model_wrapper(model) else model

    def new_evaluator(self) -> Evaluator:
        """An empty evaluator like the test evaluator, with dataset meta."""
        proto = copy.deepcopy(self._evaluator_proto)
        evaluator = proto if isinstance(proto, Evaluator) else \
            self.runner.build_evaluator(proto)
        evaluator.dataset_meta = getattr(self.dataloader.dataset, 'metainfo',
                                         None)
        return evaluator

    def predict(self, data: dict, inputs: torch.Tensor) -> Sequence:
        """``predict`` on ``inputs`` with copies of the batch's samples.

        Args:
            data (dict): The data preprocessor's output (``inputs``,
                ``data_samples``).
            inputs (Tensor): (B, C, H, W) inputs to predict on instead.

        Returns:
            list: The predicted data samples.
        """
        data = dict(data, inputs=inputs,
                    data_samples=copy.deepcopy(data.get('data_samples')))
        with autocast(enabled=self.fp16):
            return self.core_model(**data, mode='predict')

    @staticmethod
    def flatten(results: Dict[str, dict]) -> Dict[str, float]:
        """``{variant: {metric: v}}`` -> ``{'variant/metric': v}``."""
        return {
            f'{variant}/{key}': value
            for variant, metrics in results.items()
            for key, value in metrics.items()
        }
