"""The ``pcsim`` executable: :func:`main` imports the command line, then runs it.

Importing the command line (numpy, pandas, numba, Mesa) takes up to a few seconds, and Ctrl-C
during an import raises KeyboardInterrupt there, before :func:`simulation.cli.console` could
catch it. This module imports nothing heavy, so that Ctrl-C at that moment ends the command as
at any other: one line, ``pcsim COMMAND: interrupted``, exit status 130, no traceback.

Earlier still, while Python itself starts (its ``site`` module, the first ~10-30 ms), no pcsim
code has run: Ctrl-C then ends the process by the signal (a shell reports status 130) or, inside
``site``, Python prints its own "Fatal Python error". See docs/robustness.md.
"""

from __future__ import annotations

import signal
import sys

from .interrupts import EXIT_INTERRUPTED, is_interrupt


def main(argv: list[str] | None = None) -> int:
    """Run one ``pcsim`` command (see :func:`simulation.cli.main`); Ctrl-C at any moment from
    here on, even during imports, gives exit status 130 and one line."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        from .cli import console
        return console(argv)
    except BaseException as err:
        if not is_interrupt(err):
            raise
        print(f"{command_name(argv)}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        # The status is decided: a Ctrl-C from now on (in exit handlers, or while the
        # interpreter shuts down) must not turn it into a traceback.
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def command_name(argv: list[str]) -> str:
    """``pcsim COMMAND`` as the parser would name it, from the raw arguments."""
    first = next((a for a in argv if not a.startswith("-")), None)
    return f"pcsim {first}" if first and first.isidentifier() else "pcsim"


if __name__ == "__main__":
    sys.exit(main())
