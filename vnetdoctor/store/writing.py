"""The one way to write: ``BEGIN IMMEDIATE``, the busy timeout, bounded retries, :class:`StoreBusy`.

Its own module because every writer (recording, schema creation, marking a session
interrupted) goes through :meth:`_WriteLock._write`, and the rules for waiting on
another process's lock are subtle enough to deserve a page of their own.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from vnetdoctor.probes.errors import UsageError

# How long one attempt waits for another writer's lock (SQLite's busy handler), and
# how many attempts a write makes before giving up. A recorder's transaction lasts
# milliseconds, so 8 concurrent writers never come near this; a process that holds
# the lock for half a minute (a stuck tool, an open `BEGIN` in a sqlite3 shell) does.
BUSY_TIMEOUT = 5.0
WRITE_ATTEMPTS = 6

_T = TypeVar("_T")


class StoreBusy(UsageError):
    """Another process kept the write lock past every attempt: nothing of this write was kept.

    A :class:`UsageError` (one line, exit 2) where nobody catches it; the TUI's
    recorder catches it, keeps the step in memory and tries again later.
    """


def _is_busy(exc: BaseException) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED (any extended code): another connection has the lock."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class _WriteLock:
    """The base of :class:`~vnetdoctor.store.SessionStore`: the shared connection and its write transaction."""

    # Set by SessionStore.__init__ (vnetdoctor.store.core); declared here for the type checker.
    path: Path
    readonly: bool
    busy_timeout: float
    write_attempts: int
    _lock: threading.RLock
    _conn: sqlite3.Connection
    _db: Any
    _fts: bool

    # -- the one way to write -------------------------------------------------------

    def _backoff(self, attempt: int) -> None:
        """Sleep a little, more each attempt, with jitter so that waiting writers spread out."""
        time.sleep(random.uniform(0.05, 0.25) * (attempt + 1))

    def _write(self, body: Callable[[], _T]) -> _T:
        """Run ``body`` in one transaction that holds the write lock from its start.

        ``BEGIN IMMEDIATE`` waits (busy timeout) for the lock instead of reading
        first and failing to upgrade later. If the lock is still taken after the
        timeout, the attempt is rolled back and made again after a jittered pause,
        at most ``write_attempts`` times; then :class:`StoreBusy`. Nested calls
        (``mark_interrupted`` recording its event) join the open transaction.
        """
        if self.readonly:
            raise UsageError(f"{self.path} is open read-only: nothing can be recorded")
        with self._lock:
            if self._conn.in_transaction:
                return body()
            last: sqlite3.OperationalError | None = None
            for attempt in range(self.write_attempts):
                if attempt:
                    self._backoff(attempt - 1)
                try:
                    self._conn.execute("BEGIN IMMEDIATE")
                except sqlite3.OperationalError as exc:
                    if not _is_busy(exc):
                        raise
                    last = exc
                    continue
                try:
                    result = body()
                    self._conn.execute("COMMIT")
                except sqlite3.OperationalError as exc:
                    self._rollback()
                    if not _is_busy(exc):
                        raise
                    last = exc
                    continue
                except BaseException:
                    self._rollback()
                    raise
                return result
            waited = self.write_attempts * self.busy_timeout
            raise StoreBusy(
                f"session database {self.path} is busy: another process held its write lock "
                f"for over {waited:.0f} s ({last})"
            )

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            try:
                self._conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # the error already ended the transaction
