"""The one error every floor may raise for a problem the operator can fix.

It lives on the ground floor (``probes``) because the floors that report such
problems sit at every height: the store (a database it cannot open), redaction,
the benchmarks, the TUI's keymap and the commands. Each floor imports only the
floors below it, so a shared error type has to live at the bottom; the command
line (top floor) is where it becomes one line on stderr and exit status 2.
"""

from __future__ import annotations


class UsageError(Exception):
    """Bad input or a missing prerequisite the operator can fix; one line, exit 2."""


class NetlinkError(Exception):
    """A netlink query a probe needed failed: the kernel refused it, or named what is missing.

    pyroute2's exceptions, socket errors and our own (an interface that does not
    exist, a dump that kept changing) all become this one type, carrying the
    kernel's ``errno`` and one line saying what was asked and why it failed. A
    probe lets it through, so its observation is ``error`` with that line rather
    than a pretend result or a traceback.
    """

    def __init__(self, errno: int, message: str) -> None:
        super().__init__(message)
        self.errno = errno
