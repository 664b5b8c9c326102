"""The files of a comparison's work dir: its plan, each run's result."""
import json
import os
import os.path as osp
from typing import Optional

PLAN_FILE = 'plan.json'
RESULT_FILE = 'result.json'
TIMING_FILE = 'timing.json'


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
    may grow.

    Raises:
        ValueError: If the work dir holds a comparison with another setting
            or device (its runs would not be comparable).
    """
    path = osp.join(work_dir, PLAN_FILE)
    old = read_json(path)
    if old is not None:
        if old['setting'] != plan['setting'] or \
                old['device'] != plan['device']:
            raise ValueError(
                f'{path} holds a comparison with another setting or device '
                f"({old['setting']}, {old['device']}); use another "
                '--work-dir or delete that folder')
        plan = dict(old, methods=plan['methods'])
    write_json(path, plan)
    return plan
