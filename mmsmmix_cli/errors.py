"""A tool's ``main`` with the user's mistakes as one line and exit status 2.

A mistake of the user's is an ``mmsmmix.utils.errors.UserError`` (a config
key, an argument, a data path, a checkpoint); argparse's own errors exit 2
too. The traceback is shown only with ``--debug`` or ``MMSMMIX_DEBUG=1``.
"""
import os
import os.path as osp
import sys
from typing import Callable, List, Optional

#: Set to 1 to see the traceback of a user's mistake.
DEBUG_ENV = 'MMSMMIX_DEBUG'
#: Exit status of a user's mistake (as argparse's).
USER_ERROR_EXIT = 2
#: The console script that started the tool (see mmsmmix_cli.commands)
invoked_as: Optional[str] = None


def prog_name(tool: str) -> str:
    """What to call the tool in usage and messages: the console script that
    runs it (``mmsmmix-train``), else ``tool`` (``tools/train.py``)."""
    return invoked_as or tool


def _is_user_error(err: BaseException) -> bool:
    # mmsmmix is imported by the time one of its errors can be raised;
    # looking it up instead of importing keeps this module light
    errors = sys.modules.get('mmsmmix.utils.errors')
    return errors is not None and isinstance(err, errors.UserError)


def debugging(argv: Optional[List[str]] = None) -> bool:
    """Whether ``--debug`` is among the arguments or ``MMSMMIX_DEBUG`` set."""
    argv = sys.argv[1:] if argv is None else argv
    return '--debug' in argv or os.environ.get(DEBUG_ENV, '') not in (
        '', '0')


def run(main: Callable, argv: Optional[List[str]] = None,
        prog: Optional[str] = None):
    """Call ``main(argv)``; a ``UserError`` exits with status 2 and its
    message on one line of stderr (``PROG: message``), unless debugging.

    Returns:
        What ``main`` returns.
    """
    try:
        return main(argv)
    except Exception as err:
        if not _is_user_error(err) or debugging(argv):
            raise
        prog = prog_name(prog or osp.basename(sys.argv[0]))
        message = ' '.join(str(err).split('\n'))
        print(f'{prog}: {message}', file=sys.stderr)
        raise SystemExit(USER_ERROR_EXIT) from None
