"""The lint gate: flake8 and isort, as setup.cfg configures them and
``make lint`` runs them, find nothing in the checkout."""
import os.path as osp
import subprocess
import sys

import pytest

from tests.helpers import REPO_ROOT

BIN = osp.dirname(sys.executable)


@pytest.mark.slow  # processes
@pytest.mark.parametrize('command', [
    ['flake8'],
    ['isort', '--check-only', '--diff', '.'],
])
def test_lint_clean(command):
    proc = subprocess.run([osp.join(BIN, command[0]), *command[1:]],
                          cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow  # processes
def test_lint_finds_an_error(tmp_path):
    """The gate can fail: a blank-line error and imports out of order in a
    file checked with the checkout's settings."""
    bad = tmp_path / 'bad.py'
    bad.write_text('import sys\nimport os\n\n\n\nprint(os, sys)\n')
    cfg = osp.join(REPO_ROOT, 'setup.cfg')
    flake8 = subprocess.run(
        [osp.join(BIN, 'flake8'), '--config', cfg, str(bad)],
        capture_output=True, text=True, timeout=600)
    assert flake8.returncode == 1 and 'E303' in flake8.stdout
    isort = subprocess.run(
        [osp.join(BIN, 'isort'), '--settings-path', cfg, '--check-only',
         str(bad)], capture_output=True, text=True, timeout=600)
    assert isort.returncode == 1
