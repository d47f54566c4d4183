"""Telling Ctrl-C from a failure.

A KeyboardInterrupt raised while a compiled (numba) kernel runs does not always reach Python as
itself: the kernel returns to the interpreter with the interrupt pending, and Python reports
``SystemError: ... returned a result with an exception set`` whose cause (``__cause__`` or
``__context__``) is the KeyboardInterrupt. :func:`is_interrupt` sees through that, so that the
command line and the sweep runner treat both the same way: the user stopping the work.
"""

from __future__ import annotations

#: the exit status of a command stopped by Ctrl-C (128 + SIGINT), as shells report it
EXIT_INTERRUPTED = 130


def is_interrupt(err: BaseException | None) -> bool:
    """Whether ``err`` stands for Ctrl-C: a KeyboardInterrupt, or an exception caused (directly
    or through a chain of causes) by one."""
    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, KeyboardInterrupt):
            return True
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return False
