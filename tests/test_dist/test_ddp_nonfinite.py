"""Two-process CPU DDP (gloo): a NaN pixel on one rank stops the step on
both ranks alike (raise) or skips it on both (skip), so no rank waits in a
gradient all-reduce the other never joins."""
import datetime
import json
import os
import os.path as osp

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from mmsmmix.utils.dist import free_port
from tests.helpers import DDP_WORLD_SIZE, ddp_model_cfg

pytestmark = pytest.mark.slow


def _worker(rank: int, port: int, out_dir: str, mode: str) -> None:
    os.environ['MASTER_ADDR'] = '127.0.0.1'
    os.environ['MASTER_PORT'] = str(port)
    torch.set_num_threads(1)
    dist.init_process_group(
        'gloo', rank=rank, world_size=DDP_WORLD_SIZE,
        timeout=datetime.timedelta(seconds=60))
    try:
        from mmengine.model import MMDistributedDataParallel
        from mmengine.optim import OptimWrapper
        from mmpretrain.registry import MODELS
        from mmpretrain.structures import DataSample

        import mmsmmix  # noqa: F401

        torch.manual_seed(0)
        cfg = ddp_model_cfg()
        cfg['train_cfg']['nonfinite'] = mode
        model = MODELS.build(cfg)
        ddp = MMDistributedDataParallel(
            module=model, find_unused_parameters=True)
        optim = OptimWrapper(torch.optim.AdamW(ddp.parameters(), lr=1e-3))
        results = []
        for step in range(3):
            images = torch.randint(0, 256, (4, 1, 28, 28)).float()
            if step == 1 and rank == 1:
                images[0, 0, 3, 3] = float('nan')
            data = dict(
                inputs=list(images),
                data_samples=[DataSample().set_gt_label(k) for k in range(4)])
            try:
                log_vars = ddp.train_step(data, optim)
                results.append(int(log_vars.get('skipped_steps', -1)))
            except FloatingPointError as err:
                results.append(str(err))
        with open(osp.join(out_dir, f'rank{rank}.json'), 'w') as f:
            json.dump(results, f)
        torch.save({k: v.detach().clone()
                    for k, v in model.state_dict().items()},
                   osp.join(out_dir, f'rank{rank}.pth'))
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize('mode', ['raise', 'skip'])
def test_nan_on_one_rank_stops_both(tmp_path, mode):
    mp.spawn(_worker, args=(free_port(), str(tmp_path), mode),
             nprocs=DDP_WORLD_SIZE, join=True)
    results = [json.load(open(tmp_path / f'rank{r}.json')) for r in (0, 1)]
    if mode == 'raise':
        for r in results:
            assert r[0] == -1 and r[2] == -1
            assert 'non-finite inputs' in r[1]
        # Only rank 1 saw the NaN; rank 0 says so.
        assert '(on another rank)' in results[0][1]
        assert '(inputs, loss_cls=nan' in results[1][1]
    else:
        assert results[0] == results[1] == [0, 1, 1]
    s0, s1 = (torch.load(tmp_path / f'rank{r}.pth') for r in (0, 1))
    for key in s0:
        assert torch.equal(s0[key], s1[key]), key
        assert torch.isfinite(s0[key]).all(), key
