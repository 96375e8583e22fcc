"""The :class:`SessionStore` itself: its constructor and lifetime, over the parts it is built from.

The store was one module of a thousand lines; it is now a chain of mixins, one module
each (``writing`` < ``schema`` < ``recording`` < ``reading`` < ``loading``), and this
module ties them to the public class every caller imports from :mod:`vnetdoctor.store`.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from typing import Self

from vnetdoctor.knowledge.text import tr
from vnetdoctor.probes.errors import UsageError
from vnetdoctor.store.files import default_db_path
from vnetdoctor.store.loading import _Loader
from vnetdoctor.store.writing import BUSY_TIMEOUT, WRITE_ATTEMPTS


class SessionStore(_Loader):
    """Record, list, search and load diagnosis sessions in one SQLite file.

    Safe to share between the threads of one process (a lock serialises use of the
    single connection) and between processes (WAL, ``BEGIN IMMEDIATE``, a busy
    timeout and bounded retries). ``readonly=True`` opens an existing file for
    reading only and guarantees its bytes do not change.

    Every write goes through :meth:`_write`, one transaction that holds the write
    lock from its first statement; public writers (``start_session``,
    ``record_step``, ``record_event``, ``finish_session``) are each one such
    transaction, so a new writer (e.g. marking a session interrupted) is a method
    calling ``self._write(body)``.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        create: bool = True,
        readonly: bool = False,
        busy_timeout: float = BUSY_TIMEOUT,
        write_attempts: int = WRITE_ATTEMPTS,
    ) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self.readonly = readonly
        self.busy_timeout = busy_timeout
        self.write_attempts = max(1, write_attempts)
        self._lock = threading.RLock()
        self._fts = False
        try:
            is_dir, exists = self.path.is_dir(), self.path.exists()
        except OSError as exc:  # a directory on the way we may not enter
            raise UsageError(tr("cli.db_unopenable", db=str(self.path), error=str(exc.strerror or exc))) from None
        if is_dir:
            raise UsageError(tr("cli.database_is_dir", db=str(self.path)))
        if not exists and (readonly or not create):
            raise UsageError(tr("cli.no_database", db=str(self.path)))
        if readonly:
            self._conn = self._connect_readonly()
        else:
            self._conn = self._connect_for_writing()
        try:
            self._open()
        except UsageError:
            self._conn.close()
            raise
        except sqlite3.Error as exc:
            self._conn.close()
            raise UsageError(tr("cli.db_unreadable", db=str(self.path), error=str(exc))) from None

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
