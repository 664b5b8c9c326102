"""mmsmmix_cli, the tools' light layer: a user's mistake is one line and
exit status 2, a bug keeps its traceback; the dependency warnings a user
cannot act on are filtered by message and module, nothing else; the
console scripts find the tools."""
import os.path as osp
import warnings

import pytest

import mmsmmix_cli
from mmsmmix.utils import DataPathError, UserError
from mmsmmix_cli import commands
from tests.helpers import REPO_ROOT


def _fails_with(err):
    def main(argv):
        raise err
    return main


def test_a_user_error_is_one_line_and_status_2(capsys, monkeypatch):
    monkeypatch.delenv(mmsmmix_cli.DEBUG_ENV, raising=False)
    err = DataPathError('train_dataloader.dataset.data_root = x: missing;\n'
                        'point the config at it')
    with pytest.raises(SystemExit) as exit_:
        mmsmmix_cli.run(_fails_with(err), [], prog='tools/x.py')
    assert exit_.value.code == 2
    out = capsys.readouterr()
    assert out.out == ''
    assert out.err == ('tools/x.py: train_dataloader.dataset.data_root = x: '
                       'missing; point the config at it\n')


def test_debug_and_bugs_keep_the_traceback(monkeypatch):
    monkeypatch.delenv(mmsmmix_cli.DEBUG_ENV, raising=False)
    with pytest.raises(UserError, match='bad'):
        mmsmmix_cli.run(_fails_with(UserError('bad')), ['--debug'])
    monkeypatch.setenv(mmsmmix_cli.DEBUG_ENV, '1')
    with pytest.raises(UserError, match='bad'):
        mmsmmix_cli.run(_fails_with(UserError('bad')), [])
    monkeypatch.setenv(mmsmmix_cli.DEBUG_ENV, '0')
    with pytest.raises(SystemExit):
        mmsmmix_cli.run(_fails_with(UserError('bad')), [])
    # not a user's mistake: a bug of ours, shown as one
    with pytest.raises(KeyError):
        mmsmmix_cli.run(_fails_with(KeyError('x')), [])
    done = mmsmmix_cli.run(lambda argv: argv + ['done'], ['a'])
    assert done == ['a', 'done']


@pytest.mark.parametrize('message,category,module', [
    ('pkg_resources is deprecated as an API. See https://...', UserWarning,
     'mmengine.utils.package_utils'),
    ('pkg_resources is deprecated as an API. See https://...', UserWarning,
     'importlib'),
    ('`broadcast_buffers` is deprecated. Use `forward_sync_buffers` '
     'instead.', FutureWarning, 'mmengine.model.wrappers.distributed'),
    ('``MultiScaleDeformableAttention`` has been moved to ``mmcv.ops``',
     ImportWarning, 'mmcv.cnn.bricks.transformer'),
])
def test_dependency_warnings_are_filtered(message, category, module):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter('always')
        mmsmmix_cli.quiet_dependency_warnings()
        warnings.warn_explicit(message, category, 'x.py', 1, module=module)
    assert seen == []


@pytest.mark.parametrize('message,category,module', [
    # the same text from another module, or another category
    ('pkg_resources is deprecated as an API', UserWarning, 'mmsmmix.utils'),
    ('`broadcast_buffers` is deprecated', FutureWarning, 'mymodel'),
    ('`broadcast_buffers` is deprecated', DeprecationWarning,
     'mmengine.model.wrappers.distributed'),
    # ours
    ("SMMix(score=...) is deprecated: use attn_stat='patch' or 'cls'",
     DeprecationWarning, 'mmsmmix.models.augments.smmix'),
])
def test_nothing_else_is_filtered(message, category, module):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter('always')
        mmsmmix_cli.quiet_dependency_warnings()
        warnings.warn_explicit(message, category, 'x.py', 1, module=module)
    assert [str(w.message) for w in seen] == [message]


def test_console_scripts_find_the_tools(capsys, monkeypatch):
    # the editable install's package: the checkout's tools, linked
    assert osp.samefile(commands.tools_dir(), osp.join(REPO_ROOT, 'tools'))
    for name in commands.CONVERTERS.values():
        assert osp.isfile(osp.join(commands.tools_dir(), 'model_converters',
                                   name))
    monkeypatch.setattr('sys.argv', ['mmsmmix-convert', 'smix'])
    with pytest.raises(SystemExit) as exit_:
        commands.convert()
    assert exit_.value.code == 2
    assert 'usage: mmsmmix-convert {smmix, dense}' in capsys.readouterr().err


def test_a_console_script_names_itself(tmp_path, capsys, monkeypatch):
    """``mmsmmix-test`` runs tools/test.py, whose usage and messages name
    the command the user typed."""
    from mmsmmix_cli import errors
    monkeypatch.setattr(errors, 'invoked_as', None)
    monkeypatch.setattr('sys.argv', ['/venv/bin/mmsmmix-test', 'nope.py',
                                     'model.pth'])
    monkeypatch.setattr('sys.path', list(__import__('sys').path))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        commands.test()
    assert exit_.value.code == 2
    assert capsys.readouterr().err == (
        "mmsmmix-test: config file 'nope.py' not found (looked for "
        f'{tmp_path}/nope.py)\n')
