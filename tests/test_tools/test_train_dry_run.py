"""``tools/train.py CONFIG --dry-run``: the summary of one real training
step, and nothing written to the work dir (the engine:
tests/test_apis/test_dry_run.py)."""
import os
import os.path as osp

from tests.helpers import REPO_ROOT, load_tool
from tests.tool_process import ITERS_PER_EPOCH, SMALL, SMMIX_CONFIG


def test_dry_run_prints_the_summary_and_writes_nothing(
        fmnist_root, tmp_path, capsys):
    main = load_tool(osp.join(REPO_ROOT, 'tools', 'train.py')).main
    work_dir = tmp_path / 'work'
    main([SMMIX_CONFIG, '--dry-run', '--work-dir', str(work_dir),
          '--cfg-options', *SMALL])
    out = capsys.readouterr().out
    assert 'Dry run: one training step, no checkpoint written' in out
    assert 'methods:    SMMix' in out
    # SMALL: 10 iterations of 32 images
    assert (f'batch:      32 per process x 1 process = 32; '
            f'{ITERS_PER_EPOCH} iterations per epoch') in out
    assert not work_dir.exists() or not any(os.scandir(work_dir))
