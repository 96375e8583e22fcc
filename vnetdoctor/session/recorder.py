"""Records a session (the TUI's or the CLI's) into the store from one background thread, in order.

The UI thread never waits for SQLite: a step that finished, an answer, a fix
applied are queued here and written by a single thread (so they land in the
order they happened, and a database held busy by another process cannot freeze
a key press).

A busy database loses nothing: when a write finds the write lock taken for longer
than the store's own bounded wait (:class:`~vnetdoctor.store.StoreBusy`), the
item stays at the head of the queue, in memory, with everything queued after it,
and is tried again every ``retry_interval`` seconds until it goes through. The
App is told (:meth:`SessionRecorder.set_listener`) so the operator sees "not
recorded yet" on screen instead of finding out later. ``close()`` makes a last
bounded attempt; what still could not be written is reported by the command
that ran the App, instead of "session … recorded".
"""

from __future__ import annotations

import collections
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from vnetdoctor.knowledge.model import Diagnosis, Request, StepResult

from vnetdoctor.store import StoreBusy


class StoreLike(Protocol):
    """The part of ``vnetdoctor.store.SessionStore`` the TUI records through."""

    def start_session(self, request: Request, *, source: str, scenario: str | None = None) -> str: ...
    def record_step(self, session_id: str, step: StepResult) -> None: ...
    def record_event(self, session_id: str, kind: str, detail: Mapping[str, Any]) -> None: ...
    def finish_session(self, session_id: str, diagnosis: Diagnosis) -> None: ...


@dataclass(frozen=True)
class RecordStatus:
    """What is not in the database yet, and whether the recorder is waiting for it."""

    pending: int = 0  # writes not done yet: the session itself, steps, answers, the verdict
    pending_steps: int = 0  # of which steps (the verdict counts as one)
    waiting: bool = False  # the last attempt found the database busy: retrying
    reason: str = ""  # that attempt's error, one line
    failed: int = 0  # writes the store refused for good (not busy: an I/O error, a read-only file)
    failed_steps: int = 0  # of which steps (the verdict counts as one)

    @property
    def complete(self) -> bool:
        return self.pending == 0 and self.failed == 0


StatusListener = Callable[[RecordStatus], object]  # what it returns is ignored

_RECORDS = ("start", "step", "event", "finish")  # queue items that are writes (not "flush")


def is_transient(exc: BaseException) -> bool:
    """A write that failed only because another process holds the lock: worth trying again."""
    if isinstance(exc, StoreBusy):
        return True
    if isinstance(exc, sqlite3.OperationalError):
        code = getattr(exc, "sqlite_errorcode", 0) or 0
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in str(exc)
    return False


class SessionRecorder:
    """A write-behind queue in front of a session store (one session at a time)."""

    def __init__(
        self,
        store: StoreLike,
        *,
        source: str,
        scenario: str | None = None,
        retry_interval: float = 1.0,
    ) -> None:
        self.store = store
        self.source = source
        self.scenario = scenario
        self.retry_interval = retry_interval
        self.session_id: str | None = None
        self.finished = False  # the verdict is in the database (a walk that ended before a signal)
        self.errors: list[str] = []  # one line each; shown by the command after the App exits
        self._items: collections.deque[tuple[Any, ...]] = collections.deque()
        self._cond = threading.Condition()
        self._closing = False
        self._deadline = 0.0  # after close(): when the last attempt gives up
        self._waiting = False
        self._reason = ""
        self._failed = 0
        self._failed_steps = 0
        self._listener: StatusListener | None = None
        self._thread = threading.Thread(target=self._loop, name="vnetdoctor-recorder", daemon=True)
        self._thread.start()

    # -- called from the UI thread: never blocks -------------------------------------
    def start(self, request: Request, on_started: Callable[[str], None] | None = None) -> None:
        self._put(("start", request, on_started))

    def step(self, result: StepResult) -> None:
        self._put(("step", result))

    def event(self, kind: str, detail: Mapping[str, Any]) -> None:
        self._put(("event", kind, dict(detail)))

    def finish(self, diagnosis: Diagnosis) -> None:
        self._put(("finish", diagnosis))

    def set_listener(self, listener: StatusListener | None) -> None:
        """``listener(status)`` is called from the recorder's thread whenever the status changes.

        The App passes a function that posts a message (thread-safe); ``None`` stops it.
        """
        with self._cond:
            self._listener = listener

    def status(self) -> RecordStatus:
        with self._cond:
            return self._status_locked()

    def close(self, timeout: float = 10.0) -> RecordStatus:
        """Write what is queued, trying at most ``timeout`` more seconds; then stop the thread.

        Returns what is still not written (``status().complete`` when everything is).
        """
        with self._cond:
            self._closing = True
            self._deadline = time.monotonic() + timeout
            self._cond.notify_all()
        self._thread.join(timeout + 1.0)
        return self.status()

    def mark_interrupted(self, reason: str) -> str | None:
        """Say in the record that a signal (``reason``: SIGTERM…) ended the session; after :meth:`close`.

        Why a record says it: a session cut short must not read like a crash, nor like a walk
        that found nothing. Returns the one line to show when the mark could not be written,
        else None (also when nothing was recorded, or the store has no such mark).
        """
        mark = getattr(self.store, "mark_interrupted", None)
        if not self.session_id or mark is None:
            return None
        try:
            mark(self.session_id, reason)
        except Exception as exc:  # noqa: BLE001 - reported by the caller, never a traceback on the way out
            return f"interrupted: {type(exc).__name__}: {exc}".splitlines()[0]
        return None

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is written (tests and commands use it)."""
        done = threading.Event()
        self._put(("flush", done))
        return done.wait(timeout)

    # -- the recorder's thread ----------------------------------------------------------
    def _put(self, item: tuple[Any, ...]) -> None:
        with self._cond:
            self._items.append(item)
            self._cond.notify_all()
            waiting = self._waiting
        if waiting:
            self._announce()  # the count the operator sees grows while the database is busy

    def _status_locked(self) -> RecordStatus:
        records = [i for i in self._items if i[0] in _RECORDS]
        steps = sum(1 for i in records if i[0] in ("step", "finish"))
        return RecordStatus(len(records), steps, self._waiting, self._reason, self._failed, self._failed_steps)

    def _announce(self) -> None:
        with self._cond:
            listener, status = self._listener, self._status_locked()
        if listener is not None:
            try:
                listener(status)
            except Exception as exc:  # noqa: BLE001 - a closed App must not stop the recording
                self.errors.append(f"status: {type(exc).__name__}: {exc}".splitlines()[0])

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._items and not self._closing:
                    self._cond.wait()
                if not self._items:
                    return  # closing, and everything is written
                item = self._items[0]
            try:
                self._handle(item)
            except Exception as exc:  # noqa: BLE001 - a failed write must not kill the session
                if is_transient(exc):
                    if not self._wait_to_retry(str(exc).splitlines()[0]):
                        return  # closing and out of time: the rest stays pending (reported)
                    continue
                # Not worth retrying (an I/O error, a read-only file): the record is lost, and
                # the operator is told now, on screen, not only when the command ends.
                line = f"{item[0]}: {type(exc).__name__}: {exc}".splitlines()[0]
                self.errors.append(line)
                with self._cond:
                    self._failed += 1
                    self._failed_steps += item[0] in ("step", "finish")
                    self._waiting, self._reason = False, line
                failed = True
            else:
                failed = False
            with self._cond:
                self._items.popleft()
                caught_up = self._waiting and not any(i[0] in _RECORDS for i in self._items)
                if caught_up:
                    self._waiting, self._reason = False, ""
            if caught_up or failed:
                self._announce()

    def _wait_to_retry(self, reason: str) -> bool:
        """Note the busy database, then pause (jittered) before the next attempt.

        False when the App has closed and the last attempt's time is up.
        """
        with self._cond:
            self._waiting, self._reason = True, reason
        self._announce()  # at every failed attempt: the App keeps its notice up while this lasts
        end = time.monotonic() + self.retry_interval * random.uniform(0.75, 1.25)
        with self._cond:
            closing_before = self._closing
            while True:
                if self._closing:
                    if not closing_before:
                        break  # close() was just called: make the last attempt now
                    end = min(end, self._deadline)
                left = end - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)  # new items wake it too; it keeps its pace
            return not (self._closing and time.monotonic() >= self._deadline)

    def _handle(self, item: tuple[Any, ...]) -> None:
        kind = item[0]
        if kind == "flush":
            item[1].set()
            return
        if kind == "start":
            _, request, on_started = item
            self.session_id = self.store.start_session(request, source=self.source, scenario=self.scenario)
            if on_started is not None:
                on_started(self.session_id)
            return
        if self.session_id is None:
            return  # nothing started (yet): a step before the walk began is not this session's
        if kind == "step":
            self.store.record_step(self.session_id, item[1])
        elif kind == "event":
            self.store.record_event(self.session_id, item[1], item[2])
        elif kind == "finish":
            self.store.finish_session(self.session_id, item[1])
            self.finished = True


def open_recorder(db: Any, *, source: str, scenario: str | None = None) -> tuple[Any, SessionRecorder]:
    """The session store and the write-behind recorder in front of it, as both front ends record.

    Short store-level waits (about 2 s per attempt): the recorder's thread retries for as
    long as it takes, so the operator learns within seconds that the database is busy
    (on screen, or on stderr at the end), and a diagnosis never waits for it. Raises
    :class:`~vnetdoctor.store.StoreBusy` when the database is too busy even to open.
    """
    from vnetdoctor.store import SessionStore

    store = SessionStore(db, busy_timeout=1.0, write_attempts=2)
    return store, SessionRecorder(store, source=source, scenario=scenario)
