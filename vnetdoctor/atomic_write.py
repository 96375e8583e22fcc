"""Writing an output file whole or not at all, and never replacing a device with a file.

Why a module of its own: an export (``vnetdoctor export``, the Sessions screen's
export dialog) can fail half-way (a full disk, frames that cannot be written, a
redaction that refuses), and the operator must then find either the file they had
or none, never half a report under the name they asked for. And ``-o /dev/null``
or a FIFO must be written into, not renamed over: as root, renaming a file over
``/dev/null`` turned the system's null device into a regular file. Nothing here
knows what is written; the caller's ``fill`` does.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from vnetdoctor.knowledge.text import tr
from vnetdoctor.probes.errors import UsageError


def is_special(path: str) -> bool:
    """``path`` exists and is neither a regular file nor a directory (a device, a FIFO, a socket)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def write_with(path: str, fill: Callable[[BinaryIO], object]) -> None:
    """Let ``fill`` write into a temporary file beside ``path``, then rename it into place.

    A failure — a full disk, or ``fill`` raising UsageError — removes the temporary
    file, so there is never half an export under the name the operator asked for.
    A path that exists and is not a regular file (``/dev/null``, ``/dev/stdout``, a
    FIFO) is written in place: renaming over it would replace a device with a file.
    """
    target = Path(path)
    if is_special(path):
        _write_into(path, fill)
        return
    try:
        special = target.exists() and not target.is_file()
    except OSError:
        special = False
    if special:
        if target.is_dir():
            raise UsageError(tr("cli.cannot_write_dir", path=path))
        _write_into(path, fill)
        return
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=str(target.parent or Path(".")))
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fill(fh)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise _cannot_write(path, exc) from None
        raise


def _write_into(path: str, fill: Callable[[BinaryIO], object]) -> None:
    """/dev/null, a FIFO, a terminal: written into, never replaced. Renaming a file over
    /dev/null (as root) turned the system's null device into a regular file."""
    try:
        with open(path, "wb") as fh:
            fill(fh)
    except OSError as exc:
        raise _cannot_write(path, exc) from None


def _cannot_write(path: str, exc: OSError) -> UsageError:
    return UsageError(tr("cli.cannot_write", path=path, error=str(exc.strerror or exc)))
