"""The user's mistakes, told apart from our bugs.

A :class:`UserError` is a mistake the user can fix (a config, an argument,
a data path, a checkpoint): the tools print its message as one line (first
and last thing on the screen) and exit with status 2; the traceback only
with ``--debug`` or ``MMSMMIX_DEBUG=1``. Anything else is a bug of ours and
keeps its traceback.
"""

#: Exit status of a tool refused by the user's mistake (argparse's too).
USER_ERROR_EXIT = 2


class UserError(Exception):
    """A mistake of the user's, with a one-line message naming what is
    wrong (the key, file or argument) and what to do."""
