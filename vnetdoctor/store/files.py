"""Where the session file lives and how it is created private, before SQLite opens it.

Split out of the store so the file-system side (XDG and sudo paths, 0700 directories,
an O_EXCL 0600 file, tightening an existing file, the ``file:`` URI for read-only
opening) can be read and tested apart from SQL; nothing here touches SQLite.
"""

from __future__ import annotations

import os
import pwd
import stat
import urllib.parse
from pathlib import Path

_SIDE_FILES = ("-wal", "-shm", "-journal")


def _account_home(uid: int) -> Path:
    """The home directory of ``uid`` from the passwd database (not from ``$HOME``)."""
    return Path(pwd.getpwuid(uid).pw_dir)


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")


def default_db_path() -> Path:
    """``$XDG_DATA_HOME/vnetdoctor/sessions.db``, never in another user's home when root.

    XDG says: ignore a relative ``$XDG_DATA_HOME``. Under ``sudo -E`` (or a sudo that
    keeps ``$HOME``) root would otherwise create root-owned directories in the
    invoking user's home, which that user then cannot remove or write. So root
    keeps its sessions in its own data directory (from root's passwd entry) when the
    environment points into a tree owned by someone else; ``--db`` still goes anywhere.
    """
    base = os.environ.get("XDG_DATA_HOME", "")
    home = os.environ.get("HOME") or str(_account_home(os.geteuid()))
    root = Path(base) if base and os.path.isabs(base) else Path(home) / ".local" / "share"
    euid = os.geteuid()
    if euid == 0:
        try:
            owner = _nearest_existing(root).stat().st_uid
        except OSError:
            owner = euid
        if owner != euid:
            root = _account_home(euid) / ".local" / "share"
    return root / "vnetdoctor" / "sessions.db"


def _make_private_dirs(directory: Path) -> None:
    """Create the missing directories of ``directory``, each ``0700`` whatever the umask.

    ``Path.mkdir(parents=True, mode=…)`` gives the parents the umask's default
    mode; these hold nothing but session data, so every one created here is
    private. Directories that already exist are left as they are (not ours).
    """
    missing = []
    for candidate in (directory, *directory.parents):
        if candidate.is_dir():
            break
        missing.append(candidate)
    for candidate in reversed(missing):
        try:
            os.mkdir(candidate, 0o700)  # the umask can only take bits away from 0700
        except FileExistsError:
            continue  # another recorder made it first
        os.chmod(candidate, 0o700)  # …and a umask like 0277 would leave it unusable


def _create_private_file(path: Path) -> None:
    """Create ``path`` empty and ``0600`` unless it exists; SQLite then only opens it.

    ``O_EXCL`` makes the creation atomic against other recorders; the mode passed
    to ``open`` can only lose bits to the umask, so no instant exists where the file
    is readable by others, and ``fchmod`` makes it exactly 0600 whatever the umask.
    SQLite fills an empty file as a new database and gives ``-wal``/``-shm`` this
    file's mode, so they are private too.
    """
    _make_private_dirs(path.parent)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _tighten(path: Path) -> None:
    """Make an existing store of ours (and its side files) 0600: older versions left 0644."""
    euid = os.geteuid()
    for name in ("", *_SIDE_FILES):
        target = Path(f"{path}{name}")
        try:
            st = os.stat(target, follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and st.st_uid == euid and st.st_mode & 0o077:
            try:
                os.chmod(target, 0o600, follow_symlinks=False)
            except OSError:
                pass  # not fatal: recording still works, as private as it was before


def _uri(path: Path, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"file:{urllib.parse.quote(str(path))}?{query}"
