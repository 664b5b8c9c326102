"""The files of a comparison's work dir: its plan, each run's result."""
import fcntl
import json
import os
import os.path as osp
from contextlib import contextmanager
from typing import Iterator, List, Optional

from mmsmmix.utils.errors import UserError

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


class ComparisonError(UserError, ValueError):
    """A comparison refused for the user's options: a bad method name, a
    work dir that holds another comparison, options a command line cannot
    carry."""


class SettingChanged(ComparisonError):
    """The work dir holds a comparison with another setting."""


def _json(value):
    """``value`` as it reads back from a plan file (tuples become lists)."""
    return json.loads(json.dumps(value))


def _flat(setting: dict) -> dict:
    """The setting with each ``cfg_options`` key a key of its own
    (``cfg_options.<key>``)."""
    flat = {k: v for k, v in setting.items() if k != 'cfg_options'}
    flat.update((f'cfg_options.{k}', v)
                for k, v in setting.get('cfg_options', {}).items())
    return flat


def setting_changes(old: dict, new: dict) -> List[str]:
    """What differs between a work dir's plan and the one asked for now:
    ``'<key>: <there> there, <now> now'`` for each setting key (each
    ``cfg_options`` key on its own; ``seeds`` may change), the device and
    each method's config. A key only one of them has reads ``unset`` (and
    is no change if its value is None)."""
    def show(values: dict, key: str) -> str:
        return repr(values[key]) if key in values else 'unset'

    was, now = _flat(_json(old['setting'])), _flat(_json(new['setting']))
    changes = [f'{key}: {show(was, key)} there, {show(now, key)} now'
               for key in sorted(set(was) | set(now))
               if key != 'seeds' and was.get(key) != now.get(key)]
    if old['device'] != new['device']:
        changes.append(f"device: {old['device']!r} there, "
                       f"{new['device']!r} now")
    for method in new['methods']:
        config = old['configs'].get(method, new['configs'][method])
        if config != new['configs'][method]:
            changes.append(f'config of {method}: {config} there, '
                           f"{new['configs'][method]} now")
    return changes


def load_plan(work_dir: str, plan: dict) -> dict:
    """The work dir's plan, created from ``plan`` if there is none.

    A resumed comparison keeps its first date and machine; its method list
    and its number of seeds may change (finished runs are reused).

    Raises:
        SettingChanged: If the work dir holds a comparison with another
            setting, device or method config (its runs would not be
            comparable), naming each key that differs with both values.
    """
    path = osp.join(work_dir, PLAN_FILE)
    old = read_json(path)
    if old is not None:
        changes = setting_changes(old, plan)
        if changes:
            raise SettingChanged(
                f"{work_dir} holds a comparison with another setting: "
                f"{'; '.join(changes)}. Give another --work-dir for this "
                'one, or the options of that one (only --seeds and '
                '--methods may change)')
        plan = dict(old, methods=plan['methods'], setting=plan['setting'],
                    labels=dict(old['labels'], **plan['labels']),
                    configs=dict(old['configs'], **plan['configs']))
    write_json(path, plan)
    return plan


class WorkDirInUse(UserError, RuntimeError):
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
