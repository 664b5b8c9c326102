"""The files of a comparison's work dir: its plan, each run's result."""
import fcntl
import json
import os
import os.path as osp
from contextlib import contextmanager
from typing import Iterator, Optional

PLAN_FILE = 'plan.json'
RESULT_FILE = 'result.json'
TIMING_FILE = 'timing.json'
LOCK_FILE = 'comparison.lock'


def write_json(path: str, data: dict) -> None:
    """Write ``data`` to ``path`` atomically (a kill leaves the old file or
    none, never half a file)."""
    tmp = f'{path}.tmp'
    with open(tmp, 'w') as f:
        json.dump(data, f, indent=2)
    os.replace(tmp, path)


def read_json(path: str) -> Optional[dict]:
    """The JSON file's content, or None if it does not exist."""
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def run_dir(work_dir: str, method: str, seed: int) -> str:
    """The work dir of one run."""
    return osp.join(work_dir, 'runs', method, f'seed{seed}')


def read_result(run_path: str) -> Optional[dict]:
    """The finished run's result, or None if it has not finished."""
    return read_json(osp.join(run_path, RESULT_FILE))


def load_plan(work_dir: str, plan: dict) -> dict:
    """The work dir's plan, created from ``plan`` if there is none.

    A resumed comparison keeps its first date and machine; its method list
    and its number of seeds may change (finished runs are reused).

    Raises:
        ValueError: If the work dir holds a comparison with another setting,
            device or method config (its runs would not be comparable),
            naming what differs.
    """
    path = osp.join(work_dir, PLAN_FILE)
    old = read_json(path)
    if old is not None:
        differ = [
            f'{key} {old["setting"].get(key)!r} there, '
            f'{plan["setting"].get(key)!r} now'
            for key in sorted(set(old['setting']) | set(plan['setting']))
            if key != 'seeds'
            and old['setting'].get(key) != plan['setting'].get(key)
        ]
        if old['device'] != plan['device']:
            differ.append(f"device {old['device']!r} there, "
                          f"{plan['device']!r} now")
        for method in plan['methods']:
            was = old['configs'].get(method, plan['configs'][method])
            if was != plan['configs'][method]:
                differ.append(f'config of {method} {was!r} there, '
                              f"{plan['configs'][method]!r} now")
        if differ:
            raise ValueError(
                f'{path} holds a comparison with another setting: '
                f"{'; '.join(differ)}. Use another --work-dir, or the same "
                'options as that comparison (only --seeds and --methods may '
                'change)')
        plan = dict(old, methods=plan['methods'], setting=plan['setting'],
                    labels=dict(old['labels'], **plan['labels']),
                    configs=dict(old['configs'], **plan['configs']))
    write_json(path, plan)
    return plan


class WorkDirInUse(RuntimeError):
    """Another live coordinator holds the work dir."""


@contextmanager
def lock_work_dir(work_dir: str) -> Iterator[None]:
    """Hold the work dir for one coordinator.

    An exclusive ``flock`` on ``comparison.lock`` (which holds the holder's
    pid): the kernel drops it when the holder dies, however it dies, so a
    lock left by a dead process is simply taken.

    Raises:
        WorkDirInUse: If another process holds it, naming its pid.
    """
    path = osp.join(work_dir, LOCK_FILE)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode().strip() or 'unknown'
            raise WorkDirInUse(
                f'{work_dir} is in use by another comparison (pid {holder}); '
                'wait for it, stop it, or use another --work-dir') from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)  # releases the lock
