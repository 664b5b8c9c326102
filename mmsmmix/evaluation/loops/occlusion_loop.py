"""``OcclusionTestLoop``: top-1 with a share of the patches dropped."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.evaluator import Evaluator
from mmengine.logging import print_log
from mmpretrain.registry import LOOPS
from torch.utils.data import DataLoader

from ...models.probes import build_attention_probe
from ..robustness.occlusion import (ORDER_MODES, num_dropped, occlude,
                                    occlusion_mask, patch_order)
from .multi_eval import MultiEvaluatorTestLoop


@LOOPS.register_module()
class OcclusionTestLoop(MultiEvaluatorTestLoop):
    """Evaluate the test set at several patch-occlusion ratios.

    Per batch: the data preprocessor normalises the images; each image's
    patches are ranked (randomly, or most-attended first by the backbone's
    last-block attention in an eval no-grad forward); for every ratio r the
    first ``round(r * N)`` patches are set to 0 in normalised space (the
    dataset mean) and the model predicts. Masks of growing ratios are nested.
    Each ratio has its own evaluator.

    The patch grid is the model's: for a backbone with an attention probe
    (ViTs) its token grid and patch size; otherwise ``grid`` cells per side
    (required then, ``--occlusion-grid`` of tools/test.py).

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The test dataloader (or config).
        evaluator (Evaluator | dict | list): The test evaluator (or config).
        ratios (Sequence[float]): Shares of patches to drop, in [0, 1].
        mode (str): ``'random'`` or ``'attention'`` (most-attended first).
        grid (int, optional): Cells per side for backbones without a probe.
        attn_stat (str): Attention statistic of ``patch_attention_score``
            (``'patch'`` or ``'cls'``). Defaults to ``'patch'``.
        seed (int): Seed of the random patch orders. Defaults to 0.
        fp16 (bool): Run the model under autocast. Defaults to False.

    ``run`` returns ``{'occlusion_<r>/<metric>': value}`` and keeps
    ``self.results = {r: {metric: value}}`` and ``self.num_patches``.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 ratios: Sequence[float],
                 mode: str = 'random',
                 grid: Optional[int] = None,
                 attn_stat: str = 'patch',
                 seed: int = 0,
                 fp16: bool = False):
        super().__init__(runner, dataloader, evaluator, fp16)
        self.ratios = list(dict.fromkeys(float(r) for r in ratios))
        if not self.ratios:
            raise ValueError('OcclusionTestLoop needs at least one ratio')
        for r in self.ratios:
            num_dropped(r, 1)  # validates the range
        if mode not in ORDER_MODES:
            raise ValueError(f'occlusion mode must be one of {ORDER_MODES}, '
                             f'got {mode!r}')
        self.mode, self.attn_stat, self.seed = mode, attn_stat, int(seed)
        backbone = self.core_model.backbone
        try:
            self.probe = build_attention_probe(backbone)
        except TypeError:
            self.probe = None
        name = type(backbone).__name__
        if self.probe is None and mode == 'attention':
            raise ValueError(
                f"--occlusion-mode attention needs a backbone with readable "
                f"attention (a ViT); model.backbone is {name}. Use "
                "--occlusion-mode random with --occlusion-grid N")
        if self.probe is None and grid is None:
            raise ValueError(
                f'model.backbone {name} has no patch grid this tool can '
                'read: pass --occlusion-grid N (test_cfg.grid) to occlude '
                'an N x N grid of cells')
        if self.probe is not None and grid is not None:
            print_log(
                f'occlusion: ignoring grid={grid}, the {name} backbone '
                'defines its own patch grid', logger='current')
            grid = None
        if grid is not None and int(grid) < 1:
            raise ValueError(f'occlusion grid must be >= 1, got {grid}')
        self.grid = None if grid is None else int(grid)
        self.num_patches: Optional[int] = None
        self._probe_grids: Dict[Tuple[int, int], tuple] = {}

    def _layout(self, inputs: torch.Tensor):
        """Patch scores (or None), grid and patch size for this batch."""
        if self.probe is None:
            return None, (self.grid, self.grid), None
        shape = tuple(inputs.shape[-2:])
        if self.mode == 'random' and shape in self._probe_grids:
            return (None, *self._probe_grids[shape])
        with self.probe.capture(self.attn_stat) as record:
            self.core_model.extract_feat(inputs)
        self._probe_grids[shape] = (record.grid, record.patch_size)
        scores = None
        if self.mode == 'attention':
            scores = record.scores(self.attn_stat)
        return scores, record.grid, record.patch_size

    @torch.no_grad()
    def _run_batch(self, idx: int, data_batch: dict, evaluators: dict,
                   generator: torch.Generator) -> None:
        self.runner.call_hook(
            'before_test_iter', batch_idx=idx, data_batch=data_batch)
        data = self.core_model.data_preprocessor(data_batch, False)
        inputs = data['inputs']
        scores, grid, patch_size = self._layout(inputs)
        self.num_patches = grid[0] * grid[1]
        order = patch_order(scores, inputs.shape[0], self.num_patches,
                            generator).to(inputs.device)
        first = None
        for ratio, evaluator in evaluators.items():
            mask = occlusion_mask(order, ratio)
            outputs = self.predict(data, occlude(inputs, mask, grid,
                                                 patch_size))
            evaluator.process(data_samples=outputs, data_batch=data_batch)
            first = outputs if first is None else first
        self.runner.call_hook(
            'after_test_iter',
            batch_idx=idx,
            data_batch=data_batch,
            outputs=first)

    def run(self) -> dict:
        """Evaluate every ratio; return the flattened metrics."""
        self.runner.call_hook('before_test')
        self.runner.call_hook('before_test_epoch')
        self.runner.model.eval()
        evaluators = {r: self.new_evaluator() for r in self.ratios}
        generator = torch.Generator().manual_seed(self.seed)
        for idx, data_batch in enumerate(self.dataloader):
            self._run_batch(idx, data_batch, evaluators, generator)
        size = len(self.dataloader.dataset)
        self.results = {r: ev.evaluate(size) for r, ev in evaluators.items()}
        metrics = self.flatten(
            {f'occlusion_{r:g}': m
             for r, m in self.results.items()})
        self.runner.call_hook('after_test_epoch', metrics=metrics)
        self.runner.call_hook('after_test')
        return metrics
