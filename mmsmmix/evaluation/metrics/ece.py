"""Calibration metric (ECE, MCE, NLL) for mmpretrain evaluators."""
import json
import os
import os.path as osp
from typing import List, Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric
from mmengine.structures import BaseDataElement
from mmpretrain.registry import METRICS

from ..calibration import (calibration_errors, check_n_bins,
                           draw_reliability_diagram)


@METRICS.register_module()
class ECE(BaseMetric):
    """Expected and maximum calibration error and NLL of ``pred_score``.

    Equal-width confidence bins ``(lo, hi]`` as in Guo et al. (see
    :func:`mmsmmix.evaluation.calibration_errors`). Reports ``ece`` and
    ``mce`` in percent (as papers do, e.g. "ECE 6.53") and ``nll`` in nats,
    under the prefix ``calibration/``.

    Args:
        n_bins (int): Number of confidence bins. Defaults to 15.
        dump_dir (str, optional): If set, ``compute_metrics`` writes
            ``reliability_diagram.png`` and ``calibration.json`` (the output
            of ``calibration_errors``: fractions, per-bin statistics) to
            this folder, creating it. Defaults to None.
        collect_device (str): ``'cpu'`` or ``'gpu'``, where results are
            gathered across ranks. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric names. Defaults to
            None (``'calibration'``).
    """
    default_prefix: Optional[str] = 'calibration'

    def __init__(self,
                 n_bins: int = 15,
                 dump_dir: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.n_bins = check_n_bins(n_bins)
        self.dump_dir = dump_dir

    def process(self, data_batch, data_samples: Sequence) -> None:
        """Store each sample's ``pred_score`` (K,) and ``gt_label`` on CPU.

        Args:
            data_batch: A batch from the dataloader (unused).
            data_samples (Sequence[dict | DataSample]): Model outputs.
        """
        for sample in data_samples:
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            self.results.append(
                dict(pred_score=sample['pred_score'].cpu(),
                     gt_label=sample['gt_label'].cpu().reshape(-1)))

    def compute_metrics(self, results: List[dict]) -> dict:
        """Compute the metrics over all stored samples.

        Args:
            results (list[dict]): Outputs of :meth:`process`.

        Returns:
            dict: ``ece`` and ``mce`` in percent, ``nll`` in nats.
        """
        probs = torch.stack([r['pred_score'] for r in results])
        labels = torch.cat([r['gt_label'] for r in results])
        bins = calibration_errors(probs, labels, n_bins=self.n_bins)
        if self.dump_dir is not None:
            os.makedirs(self.dump_dir, exist_ok=True)
            draw_reliability_diagram(
                bins, osp.join(self.dump_dir, 'reliability_diagram.png'),
                title=f'Reliability diagram ({bins["n_samples"]} samples, '
                f'{self.n_bins} bins)')
            with open(osp.join(self.dump_dir, 'calibration.json'), 'w') as f:
                json.dump(bins, f, indent=2)
        return dict(
            ece=100 * bins['ece'], mce=100 * bins['mce'], nll=bins['nll'])
