"""Two-process CPU DDP (gloo): SMMix draws stay in lockstep across ranks.

Each rank trains a tiny ``MixImageClassifier`` + ``SMMixClsHead`` + ``SMMix``
(switch_prob 0.5) wrapped in mmengine's ``MMDistributedDataParallel`` on its
own slice of real Fashion-MNIST, with its own torch seed and the SMMix seed
left to the package (rank 0's ``torch.initial_seed()``, broadcast). Rank 1
gets odd batch sizes in its last steps. The parent checks that both ranks
drew the same (branch, region size) every step, that both branches occurred,
and that the parameters (token_head included) are identical after training.
"""
import datetime
import json
import os
import os.path as osp

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from mmsmmix.utils.dist import free_port
from tests.helpers import DDP_WORLD_SIZE, ddp_model_cfg, record_mixes

pytestmark = pytest.mark.slow

STEPS = 8
BATCH = 8
# Rank 1's last two batches are odd-sized (the middle sample of an odd batch
# is its own partner); DDP must cope with ranks of different batch sizes.
BATCH_SIZES = {
    0: [BATCH] * STEPS,
    1: [BATCH] * (STEPS - 2) + [5, 3],
}


def _rank_data(root: str, rank: int):
    """This rank's batches: disjoint slices of the Fashion-MNIST test set."""
    from mmsmmix.datasets import read_idx
    images = read_idx(osp.join(root, 't10k-images-idx3-ubyte.gz'))
    labels = read_idx(osp.join(root, 't10k-labels-idx1-ubyte.gz'))
    start = rank * BATCH * STEPS
    batches = []
    for size in BATCH_SIZES[rank]:
        batches.append((images[start:start + size],
                        labels[start:start + size]))
        start += size
    return batches


def _worker(rank: int, port: int, out_dir: str, root: str) -> None:
    os.environ['MASTER_ADDR'] = '127.0.0.1'
    os.environ['MASTER_PORT'] = str(port)
    torch.set_num_threads(1)
    dist.init_process_group(
        'gloo',
        rank=rank,
        world_size=DDP_WORLD_SIZE,
        timeout=datetime.timedelta(seconds=60))
    try:
        from mmengine.model import MMDistributedDataParallel
        from mmengine.optim import OptimWrapper
        from mmpretrain.registry import MODELS
        from mmpretrain.structures import DataSample

        import mmsmmix  # noqa: F401  (registers modules)

        torch.manual_seed(rank)  # different init and torch draws per rank
        model = MODELS.build(ddp_model_cfg())
        model.init_weights()
        ddp = MMDistributedDataParallel(
            module=model, find_unused_parameters=True)
        optim = OptimWrapper(
            torch.optim.AdamW(ddp.parameters(), lr=1e-3, weight_decay=0.05))
        mixes = record_mixes(model.augments[0])

        draws, losses = [], []
        for images, labels in _rank_data(root, rank):
            data = dict(
                inputs=[torch.from_numpy(im.copy())[None] for im in images],
                data_samples=[
                    DataSample().set_gt_label(int(y)) for y in labels
                ])
            log_vars = ddp.train_step(data, optim)
            drawn = mixes[-1].info
            draws.append([drawn['branch'], drawn.get('region_size')])
            losses.append(float(log_vars['loss']))

        with open(osp.join(out_dir, f'rank{rank}.json'), 'w') as f:
            json.dump(
                dict(
                    draws=draws,
                    losses=losses,
                    batch_sizes=BATCH_SIZES[rank],
                    initial_seed=torch.initial_seed()), f)
        torch.save({k: v.detach().clone()
                    for k, v in model.state_dict().items()},
                   osp.join(out_dir, f'rank{rank}.pth'))
    finally:
        dist.destroy_process_group()


def test_ddp_two_ranks_stay_in_sync(fmnist_root, tmp_path):
    mp.spawn(
        _worker,
        args=(free_port(), str(tmp_path), fmnist_root),
        nprocs=DDP_WORLD_SIZE,
        join=True)

    records = []
    for rank in range(DDP_WORLD_SIZE):
        with open(tmp_path / f'rank{rank}.json') as f:
            records.append(json.load(f))
    r0, r1 = records
    # The ranks really had different torch seeds (so equal draws come from
    # the package's broadcast seed, not from equal local seeds) and trained
    # on different data (different losses).
    assert r0['initial_seed'] != r1['initial_seed']
    assert r0['losses'] != r1['losses']
    assert all(np.isfinite(r0['losses'] + r1['losses']))

    # Same branch and region size on both ranks, every step.
    assert len(r0['draws']) == len(r1['draws']) == STEPS
    assert r0['draws'] == r1['draws'], (r0['draws'], r1['draws'])
    branches = [branch for branch, _ in r0['draws']]
    assert set(branches) == {'smmix', 'mixup'}, r0['draws']
    for branch, region in r0['draws']:
        if branch == 'smmix':
            assert region in range(1, 6)  # int(7*0.25)..int(7*0.75)
        else:
            assert region is None
    # The odd batches of rank 1 went through at least one SMMix step.
    odd = [i for i, b in enumerate(r1['batch_sizes']) if b % 2]
    assert any(branches[i] == 'smmix' for i in odd), (odd, r0['draws'])

    # DDP kept the replicas identical, token_head included, and training
    # moved the parameters (token_head starts at zero and is trained only
    # in SMMix steps, through loss_fine).
    s0 = torch.load(tmp_path / 'rank0.pth')
    s1 = torch.load(tmp_path / 'rank1.pth')
    assert s0.keys() == s1.keys()
    for key in s0:
        assert torch.equal(s0[key], s1[key]), key
    assert s0['head.token_head.weight'].abs().sum() > 0
