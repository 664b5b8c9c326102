"""The user's mistakes, told apart from our bugs.

A :class:`UserError` is a mistake the user can fix (a config, an argument,
a data path, a checkpoint): the tools print its message as one line (first
and last thing on the screen) and exit with status 2; the traceback only
with ``--debug`` or ``MMSMMIX_DEBUG=1``. Anything else is a bug of ours and
keeps its traceback.
"""
import difflib
from typing import Iterable, Sequence

#: Exit status of a tool refused by the user's mistake (argparse's too).
USER_ERROR_EXIT = 2


class UserError(Exception):
    """A mistake of the user's, with a one-line message naming what is
    wrong (the key, file or argument) and what to do."""


def did_you_mean(names: Iterable[str], known: Sequence[str], n: int = 1,
                 prefix: str = '') -> str:
    """``"; did you mean 'a' or 'b'?"``: up to ``n`` close names of
    ``known`` for each of ``names`` (``prefix`` put before each), or ''
    when none is close."""
    close = [
        repr(prefix + c) for name in names
        for c in difflib.get_close_matches(name, known, n=n)
    ]
    return f"; did you mean {' or '.join(close)}?" if close else ''
