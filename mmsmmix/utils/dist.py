"""Starting CPU process groups, and ending a distributed run cleanly."""
import datetime
import gc
import os
import socket
import subprocess

import torch.distributed as dist


def free_port() -> int:
    """A TCP port free on this machine now (a rendezvous port)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def finish_distributed() -> None:
    """Leave the process group cleanly once every rank is done.

    A finished mmengine Runner sits in reference cycles, and through its DDP
    wrapper it keeps the process group alive until interpreter teardown,
    where gloo's still-running threads make the process abort now and then
    ("terminate called without an active exception": about 1 launch in 30
    on a 2-core CPU machine), failing a launch whose work had finished.
    Collect such garbage first, then destroy the group, so its threads are
    joined before exit. A no-op outside a process group.
    """
    if dist.is_available() and dist.is_initialized():
        gc.collect()
        dist.barrier()
        dist.destroy_process_group()


def _slurm_env() -> None:
    """Rank, world size and rendezvous address of a Slurm task, as
    mmengine's slurm launcher sets them (``MASTER_PORT`` kept if set)."""
    node_list = os.environ['SLURM_NODELIST']
    first = subprocess.run(['scontrol', 'show', 'hostnames', node_list],
                           capture_output=True, text=True,
                           check=True).stdout.split()[0]
    os.environ.setdefault('MASTER_PORT', '29500')
    os.environ.setdefault('MASTER_ADDR', first)
    os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
    os.environ['RANK'] = os.environ['SLURM_PROCID']
    os.environ['LOCAL_RANK'] = os.environ['SLURM_LOCALID']


def init_cpu_processes(cfg, launcher: str) -> None:
    """Let ``--launcher pytorch|slurm`` run CPU processes (gloo).

    mmengine 0.10.7's launchers assume CUDA: the pytorch one calls
    ``torch.cuda.set_device`` and DDP gets ``device_ids=[LOCAL_RANK]``; the
    slurm one divides the task id by the GPU count (zero). Start the gloo
    process group here (the Runner reuses an existing one), with
    ``env_cfg.dist_cfg.timeout`` (seconds) as mmengine would, and wrap the
    model without device ids.

    Args:
        cfg (Config): The run's config; ``model_wrapper_cfg`` is set.
        launcher (str): ``'pytorch'`` (torchrun's environment) or
            ``'slurm'`` (srun's).
    """
    if launcher == 'slurm':
        _slurm_env()
    timeout = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('timeout')
    if not dist.is_initialized():
        dist.init_process_group(
            backend='gloo',
            **({} if timeout is None else dict(
                timeout=datetime.timedelta(seconds=timeout))))
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
