"""Every command line answers ``--help`` at once: a tool parses its
arguments before it imports torch, OpenMMLab's runner, MMPretrain or
mmsmmix (``mmsmmix_cli``'s convention).

Every ``tools/**/*.py`` (found by globbing: a new tool is covered) runs as
``python -X importtime TOOL --help`` in a fresh Python (a forked one has
torch loaded already): it exits 0, prints its usage, and its import trace
holds none of :data:`HEAVY`. The console scripts answer ``--help`` too.

What a parser used to take from a heavy module (``choices=``, a default
listing names) is checked after the import: the help still names the
values and a wrong one is refused in one line naming them, exit status 2.
"""
import glob
import os
import os.path as osp
import subprocess
import sys

import pytest

from tests.helpers import REPO_ROOT, load_tool, refused
from tests.tool_process import SMMIX_CONFIG

TOOLS = sorted(
    osp.relpath(path, REPO_ROOT)
    for path in glob.glob(osp.join(REPO_ROOT, 'tools', '**', '*.py'),
                          recursive=True))
#: Modules (and their submodules) ``--help`` must not import.
HEAVY = ('torch', 'mmengine.runner', 'mmpretrain', 'mmsmmix')
#: The console scripts (setup.py's entry points), with their arguments.
SCRIPTS = [('mmsmmix-train', '--help'), ('mmsmmix-test', '--help'),
           ('mmsmmix-compare', '--help'), ('mmsmmix-convert', '--help'),
           ('mmsmmix-convert', 'smmix', '--help')]


def imported(trace: str) -> list:
    """The modules an ``-X importtime`` trace (stderr) names."""
    modules = []
    for line in trace.splitlines():
        fields = line[len('import time:'):].split('|')
        if line.startswith('import time:') and len(fields) == 3 and \
                fields[0].strip().isdigit():  # not the header
            modules.append(fields[2].strip())
    return modules


def heavy_modules(trace: str) -> list:
    """Which of :data:`HEAVY` the trace imports (a submodule counts)."""
    modules = imported(trace)
    return [h for h in HEAVY
            if any(m == h or m.startswith(h + '.') for m in modules)]


def run_help(command: list) -> subprocess.CompletedProcess:
    """``command`` in a fresh Python with the import trace on (stderr,
    as ``-X importtime`` writes it); the timeout only keeps a hung process
    from hanging the suite."""
    env = dict(os.environ, PYTHONPROFILEIMPORTTIME='1')
    env.pop('MMSMMIX_DEBUG', None)
    return subprocess.run(command, cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_every_tool_is_found():
    """The glob sees the tools of every folder (and only Python files)."""
    for tool in ('tools/train.py', 'tools/test.py',
                 'tools/benchmark/compare_mixing.py',
                 'tools/model_converters/mmsmmix2dense.py'):
        assert tool in TOOLS
    assert all(t.endswith('.py') for t in TOOLS)


def test_trace_parsing():
    trace = ('import time: self [us] | cumulative | imported package\n'
             'import time:       120 |        120 |   torch._C\n'
             'import time:        80 |        900 | torch\n'
             'import time:        10 |         10 | mmsmmix_cli\n'
             'import time:        12 |         12 |     mmengine.runner\n'
             'import time:         9 |          9 | mmengine.config\n')
    assert imported(trace) == ['torch._C', 'torch', 'mmsmmix_cli',
                               'mmengine.runner', 'mmengine.config']
    assert heavy_modules(trace) == ['torch', 'mmengine.runner']
    assert heavy_modules(trace.replace('torch', 'torchvision')) == [
        'mmengine.runner']


@pytest.mark.slow  # a fresh Python per tool
@pytest.mark.parametrize('tool', TOOLS)
def test_help_imports_nothing_heavy(tool):
    proc = run_help([sys.executable, '-X', 'importtime', tool, '--help'])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.startswith('usage: '), proc.stdout[:500]
    assert imported(proc.stderr), 'no import trace'
    heavy = heavy_modules(proc.stderr)
    assert not heavy, f'{tool} --help imports {heavy}'


@pytest.mark.slow  # a fresh Python per script
@pytest.mark.parametrize('command', SCRIPTS, ids=' '.join)
def test_console_scripts_answer_help(command):
    script = osp.join(osp.dirname(sys.executable), command[0])
    assert osp.isfile(script), (
        f'{script} is not installed: pip install -e . installs the console '
        'scripts')
    proc = run_help([script, *command[1:]])
    assert proc.returncode == 0, proc.stderr[-3000:]
    name = ' '.join(command[:-1])  # what the usage calls it
    assert proc.stdout.startswith(f'usage: {name} '), proc.stdout[:500]
    heavy = heavy_modules(proc.stderr)
    assert not heavy, f'{" ".join(command)} imports {heavy}'


# ------------------------------------------- names checked after the import


def help_text(tool: str, capsys) -> str:
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        load_tool(tool).parse_args(['--help'])
    assert exit_.value.code == 0
    return capsys.readouterr().out


def test_mmsmmix2dense_target(capsys):
    from mmsmmix.models.converters import TARGETS
    tool = 'tools/model_converters/mmsmmix2dense.py'
    text = ' '.join(help_text(tool, capsys).split())
    for target in TARGETS:
        assert f'{target} (' in text, target
    code, err = refused(tool, 'a.pth', 'b.pth', '--to', 'mmseg',
                        capsys=capsys)
    assert code == 2
    assert err.strip() == (
        'tools/model_converters/mmsmmix2dense.py: --to mmseg: unknown '
        f"target; choose from {', '.join(TARGETS)}")


def test_motivating_dtype_dtype(capsys):
    from mmsmmix.models.augments import MOTIVATING_DTYPES
    tool = 'tools/benchmark/motivating_dtype.py'
    text = ' '.join(help_text(tool, capsys).split())
    low = [d for d in MOTIVATING_DTYPES if d != 'float32']
    assert all(d in text for d in low)
    code, err = refused(tool, 'missing_config.py', '--dtype', 'float32',
                        capsys=capsys)
    assert code == 2
    assert err.strip() == (
        'tools/benchmark/motivating_dtype.py: --dtype float32: choose from '
        f"{', '.join(low)} (the float32 pass is the reference)")
    code, err = refused(tool, 'missing_config.py', capsys=capsys)
    assert code == 2 and err.strip() == (
        "tools/benchmark/motivating_dtype.py: config file "
        "'missing_config.py' not found (looked for "
        f"{osp.abspath('missing_config.py')})")
    # every checkpoint is looked for before the first measurement
    missing = osp.join(REPO_ROOT, 'work_dirs', 'nowhere', 'epoch_1.pth')
    code, err = refused(tool, SMMIX_CONFIG, missing, capsys=capsys)
    assert code == 2 and err.strip() == (
        'tools/benchmark/motivating_dtype.py: checkpoint '
        f'{missing} not found (looked for {missing})')


def test_compile_time_methods(capsys):
    from mmsmmix.benchmarks.compile_timing import METHODS
    tool = 'tools/benchmark/compile_time.py'
    assert 'fashion_mnist comparison suite' in ' '.join(
        help_text(tool, capsys).split())
    code, err = refused(tool, '--methods', 'nomix,saliencymix',
                        capsys=capsys)
    assert code == 2
    assert err.strip() == (
        "tools/benchmark/compile_time.py: --methods: unknown "
        f"['saliencymix']; choose from {', '.join(METHODS)}")
    code, err = refused(tool, '--rounds', '0', capsys=capsys)
    assert code == 2 and '--rounds must be >= 1' in err
