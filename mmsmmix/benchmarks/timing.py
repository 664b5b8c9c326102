"""Timing and memory of training steps: what every benchmark measures with.

Models are built from configs and stepped round-robin on the same batch
(one step of each per round, the first one rotating), so drifting machine
load hits them alike; ratios are taken per round. A method's mixing ops are
timed through the classifier's own dispatch (``MixImageClassifier.mix``,
``forward_mixed`` and the result's ``loss_terms``) with the model's forwards
subtracted: what is left is what the method adds around a forward
(drawing, masks, pasting, relabelling, ranking).
"""
import contextlib
import copy
import datetime
import os
import platform
import resource
import statistics
import time
from typing import Dict, List

import torch
from mmengine.optim import OptimWrapper

from mmsmmix.engine import BFloat16AmpOptimWrapper
from mmsmmix.models import build_config_model
from mmsmmix.utils.precision import cpu_capability, precision_support

#: SMMix-branch step over CutMix step (DeiT-Tiny, CPU) the step-time
#: benchmark aims below.
TARGET_SMMIX_STEP_RATIO = 1.35
#: The same with the bfloat16 motivating pass (``motivating_dtype``).
TARGET_SMMIX_BF16_STEP_RATIO = 1.15
#: Share of a training step the mixing ops may take.
TARGET_MIX_SHARE = 0.02


def sync(device: torch.device) -> None:
    """Wait for the device's queued work (CUDA); a no-op on the CPU."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def cpu_name() -> str:
    """The CPU model (``/proc/cpuinfo``), else what ``platform`` says."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    """The CPU model and count, for reports."""
    return f'{cpu_name()}, {os.cpu_count()} CPUs'


def loadavg() -> str:
    """The 1, 5 and 15 minute load averages, or 'n/a'."""
    try:
        with open('/proc/loadavg') as f:
            return ' '.join(f.read().split()[:3])
    except OSError:
        return 'n/a'


def environment() -> dict:
    """Date, versions, threads and machine of a measurement."""
    import mmengine
    import mmpretrain

    from mmsmmix.version import __version__
    return dict(
        date=datetime.datetime.now().astimezone().isoformat(
            timespec='seconds'),
        python=platform.python_version(),
        torch=torch.__version__,
        mmpretrain=mmpretrain.__version__,
        mmengine=mmengine.__version__,
        mmsmmix=__version__,
        threads=torch.get_num_threads(),
        interop_threads=torch.get_num_interop_threads(),
        cpu=cpu_name(),
        cpu_count=os.cpu_count(),
        cpu_capability=cpu_capability(),
        cpu_bf16_native=precision_support('cpu', 'bfloat16').native,
        cpu_bf16=precision_support('cpu', 'bfloat16').detail,
        loadavg_before=loadavg())


def instruction_set(env: dict) -> str:
    """The CPU's kernel dispatch and bfloat16 support of an
    :func:`environment`, for report headers."""
    native = 'native' if env['cpu_bf16_native'] else 'emulated'
    return f"{env['cpu_bf16']}: bfloat16 {native}"


def build_model(cfg, device: torch.device, lr: float = 1e-3,
                bf16: bool = False):
    """A config's seeded, initialised model in training mode and its AdamW
    (in a ``BFloat16AmpOptimWrapper`` if ``bf16``: the forward under
    bfloat16 autocast).

    As the Runner does, the config's top-level ``data_preprocessor`` fills
    in the model's.
    """
    torch.manual_seed(0)
    model = build_config_model(cfg)
    model.to(device).train()
    wrapper = BFloat16AmpOptimWrapper if bf16 else OptimWrapper
    optim = wrapper(optimizer=torch.optim.AdamW(
        model.parameters(), lr=lr, weight_decay=0.05))
    return model, optim


def quartiles(values: List[float]) -> tuple:
    """(25th, 75th) percentiles of timings (both the value for one)."""
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4, method='inclusive')
    return q[0], q[2]


def time_step(model, optim, data: dict, device: torch.device) -> float:
    """Seconds of one ``train_step`` (preprocess, mix, forward, backward,
    update) on a fresh copy of ``data``."""
    data = copy.deepcopy(data)
    sync(device)
    start = time.perf_counter()
    model.train_step(data, optim)
    sync(device)
    return time.perf_counter() - start


def step_times(models: Dict[str, tuple], data: dict, device: torch.device,
               rounds: int, warmup: int) -> Dict[str, List[float]]:
    """Round-robin step times of every model (rotating the first one).

    Args:
        models (dict): name -> (model, optim wrapper).
        data (dict): A collated batch.
        device (torch.device): Where the models are.
        rounds (int): Measured rounds.
        warmup (int): Unmeasured steps of each model first.

    Returns:
        dict[str, list[float]]: name -> per-round step seconds.
    """
    names = list(models)
    for _ in range(warmup):
        for name in names:
            time_step(*models[name], data, device)
    times = {name: [] for name in names}
    for rnd in range(rounds):
        shift = rnd % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(time_step(*models[name], data, device))
    return times


@contextlib.contextmanager
def model_forward_time(model, device: torch.device):
    """Count the seconds spent in the model's own forwards meanwhile.

    Wraps ``extract_feat``, ``head.forward`` and the mix context's
    ``clean_forward`` and ``forward`` on the instances (restored on exit);
    yields a one-element list holding the sum (nested calls count once).
    """
    total, depth, originals = [0.], [0], {}

    def timed(fn):

        def wrapper(*args, **kwargs):
            depth[0] += 1
            if depth[0] == 1:
                sync(device)
                start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                depth[0] -= 1
                if depth[0] == 0:
                    sync(device)
                    total[0] += time.perf_counter() - start

        return wrapper

    owners = [(model, 'extract_feat'), (model.head, 'forward')]
    context = getattr(model, 'mix_context', None)
    if context is not None:
        owners += [(context, 'clean_forward'), (context, 'forward')]
    for owner, attr in owners:
        originals[(owner, attr)] = vars(owner).get(attr)
        setattr(owner, attr, timed(getattr(owner, attr)))
    try:
        yield total
    finally:
        for (owner, attr), original in originals.items():
            if original is None:
                delattr(owner, attr)
            else:
                setattr(owner, attr, original)


def mixing_op_seconds(model, augment, data: dict,
                      device: torch.device) -> float:
    """Seconds of one application of ``augment`` by the classifier's own
    dispatch, the model's forwards excluded.

    Args:
        model (MixImageClassifier): The model.
        augment (MixAugment): One of its augments.
        data (dict): A collated batch.
        device (torch.device): Where the model is.
    """
    batch = model.data_preprocessor(copy.deepcopy(data), True)
    inputs = batch['inputs']
    targets = model.batch_targets(inputs, batch['data_samples'])
    with torch.no_grad(), model_forward_time(model, device) as forwards:
        sync(device)
        start = time.perf_counter()
        result = model.mix(augment, inputs, targets)
        feats, _ = model.forward_mixed(result)
        if result.loss_terms is not None:
            result.loss_terms(model.head(feats))
        sync(device)
        elapsed = time.perf_counter() - start
    return elapsed - forwards[0]


def _proc_status_mib(field: str) -> float:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1]) / 1024  # kB
    raise KeyError(field)


def peak_rss_mib() -> float:
    """Peak resident set size of this process, in MiB.

    ``VmHWM`` of ``/proc/self/status`` (Linux). ``getrusage().ru_maxrss``
    is only the fallback: it survives ``execve``, so a subprocess would
    report the larger peak of its parent.
    """
    try:
        return _proc_status_mib('VmHWM')
    except (OSError, KeyError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mib() -> float:
    """Current resident set size, in MiB (Linux)."""
    return _proc_status_mib('VmRSS')


def reset_peak_rss() -> bool:
    """Reset the peak RSS to the current RSS (Linux ``clear_refs`` 5)."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False
