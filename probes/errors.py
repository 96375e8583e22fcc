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
