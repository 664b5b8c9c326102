"""finish_distributed joins gloo's threads before the process exits, even
when a DDP wrapper (as inside a finished Runner) sits in a reference cycle;
destroying the group alone leaves them running into interpreter teardown,
where they make the process abort now and then."""
import datetime
import gc
import glob
import json
import os
import os.path as osp

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from mmsmmix.utils.dist import free_port
from tests.helpers import DDP_WORLD_SIZE

pytestmark = pytest.mark.slow

GLOO_THREADS = ('pt_gloo_runloop', 'gloo_tcp_loop')


def _threads():
    return [open(t).read().strip()
            for t in glob.glob('/proc/self/task/*/comm')]


def _worker(rank, port, out_dir, collect):
    os.environ['MASTER_ADDR'] = '127.0.0.1'
    os.environ['MASTER_PORT'] = str(port)
    dist.init_process_group('gloo', rank=rank, world_size=DDP_WORLD_SIZE,
                            timeout=datetime.timedelta(seconds=60))
    from mmsmmix.utils import finish_distributed

    class Owner:  # like a Runner: holds the wrapper and is in a cycle
        pass

    owner = Owner()
    owner.owner = owner
    owner.model = torch.nn.parallel.DistributedDataParallel(
        torch.nn.Linear(3, 2))
    owner.model(torch.randn(4, 3)).sum().backward()
    before = _threads()
    del owner
    if collect:
        finish_distributed()
    else:  # what the tools did before: destroy only
        dist.barrier()
        dist.destroy_process_group()
    with open(osp.join(out_dir, f'rank{rank}.json'), 'w') as f:
        json.dump(dict(before=before, after=_threads()), f)
    gc.collect()  # the control, too, must not leave them to teardown


@pytest.mark.parametrize('collect', [True, False])
def test_finish_distributed_joins_gloo_threads(tmp_path, collect):
    mp.spawn(_worker, args=(free_port(), str(tmp_path), collect),
             nprocs=DDP_WORLD_SIZE, join=True)
    for rank in range(DDP_WORLD_SIZE):
        with open(tmp_path / f'rank{rank}.json') as f:
            threads = json.load(f)
        assert any(t in GLOO_THREADS for t in threads['before'])
        left = [t for t in threads['after'] if t in GLOO_THREADS]
        if collect:
            assert left == [], threads
        else:
            assert left, threads
