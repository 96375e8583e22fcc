"""Writing a command's output to stdout without a traceback when the reader goes away.

``vnetdoctor sessions | head`` closes the pipe early; Python then raises
BrokenPipeError on the write and again when it flushes at exit. The Python
documentation's recipe: point stdout at /dev/null and end quietly.
"""

from __future__ import annotations

import os
import sys


def emit(data: str | bytes) -> None:
    """Write ``data`` (text or bytes) to stdout and flush; a closed pipe ends the output quietly."""
    try:
        sys.stdout.flush()
        if isinstance(data, str):
            sys.stdout.write(data)
            sys.stdout.flush()
        else:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def output_width(default: int = 100, cap: int | None = None) -> int | None:
    """How wide a line may be: the terminal's width, or None (no limit) for a file or a pipe.

    A terminal line that wraps is hard to read, so tables and reports fit it; but
    `diagnose > ticket.txt`, `sessions | grep` and `lab list | cat` must keep every
    character — a clipped "…" in a file loses evidence for good.
    """
    if not sys.stdout.isatty():
        return None
    import shutil

    columns = shutil.get_terminal_size((default, 24)).columns
    return min(columns, cap) if cap else columns
