"""Leaving a terminal usable on the way out after a signal, and never hanging on it.

Why a module of its own: :mod:`vnetdoctor.interrupt` decides *when* a command ends
after SIGHUP/SIGTERM/SIGINT; this is how it talks to a terminal that may be gone
on the way out. An SSH connection that dropped fails every write with EIO, and a
pty nobody reads blocks every write, so each write here is non-blocking and a
failure costs the line, never a traceback or a hang: :func:`reset_terminal` puts
the terminal back as Textual's driver would (when the App could not), on a fresh
descriptor of its own; :func:`say` and :func:`stderr_line` write the one line the
operator reads. The commands use :func:`say` for their last words too.
"""

from __future__ import annotations

import os
import sys
import termios
from typing import Any

# What Textual's driver writes when it leaves application mode (and mouse/paste off first).
RESET_SEQUENCES = (
    "\x1b[?1000l\x1b[?1003l\x1b[?1015l\x1b[?1006l"  # mouse reporting off
    "\x1b[?2004l"  # bracketed paste off
    "\x1b[?1004l"  # focus events off
    "\x1b[?2048l"  # in-band resize off
    "\x1b[<u"  # kitty keyboard protocol off
    "\x1b[?7h"  # line wrap on
    "\x1b[?1049l"  # leave the alternate screen
    "\x1b[?25h"  # show the cursor
)


def reset_terminal(attrs: list[Any] | None = None) -> bool:
    """Write the reset sequences to the controlling terminal without ever blocking on it.

    A fresh descriptor opened ``O_NONBLOCK`` (not fd 2: its file description is
    shared with Textual's writer thread, which may be blocked on it) means a
    terminal that is gone or not being read costs an error, not a hang.
    Returns whether the sequences were written.
    """
    try:
        path = os.ttyname(sys.__stderr__.fileno() if sys.__stderr__ else 2)
        fd = os.open(path, os.O_WRONLY | os.O_NOCTTY | os.O_NONBLOCK)
    except (OSError, ValueError, AttributeError):
        return False
    try:
        if attrs is not None:
            try:
                termios.tcsetattr(fd, termios.TCSANOW, attrs)
            except termios.error:
                pass
        os.write(fd, RESET_SEQUENCES.encode())
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def say(text: str) -> None:
    """One line on stderr for the operator, on the way out after a signal.

    The terminal may be gone (SSH dropped: every write fails with EIO) or stalled
    (nobody reads the pty): the line is written non-blocking and lost rather than
    turning a clean exit into a traceback or a hang.
    """
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    stderr_line(text)


def stderr_line(text: str) -> None:
    """One line on stderr, without blocking on (or dying of) a terminal that hung up."""
    try:
        flags = _set_nonblocking(2)
        try:
            os.write(2, (text + "\n").encode())
        finally:
            if flags is not None:
                import fcntl

                fcntl.fcntl(2, fcntl.F_SETFL, flags)
    except OSError:
        pass


def _set_nonblocking(fd: int) -> int | None:
    import fcntl

    try:
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_NONBLOCK)
        return flags
    except OSError:
        return None
