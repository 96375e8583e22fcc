"""Records the TUI's session into the store from one background thread, in order.

The UI thread never waits for SQLite: a step that finished, an answer, a fix
applied are queued here and written by a single thread (so they land in the
order they happened, and a database held busy by another process cannot freeze
a key press). ``close()`` drains the queue; the command that ran the App calls it
after the App has exited, so nothing recorded is lost on ``q``.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from vnetdoctor.knowledge.model import Diagnosis, Request, StepResult


class StoreLike(Protocol):
    """The part of ``vnetdoctor.store.SessionStore`` the TUI records through."""

    def start_session(self, request: Request, *, source: str, scenario: str | None = None) -> str: ...
    def record_step(self, session_id: str, step: StepResult) -> None: ...
    def record_event(self, session_id: str, kind: str, detail: Mapping[str, Any]) -> None: ...
    def finish_session(self, session_id: str, diagnosis: Diagnosis) -> None: ...


_STOP = object()


class SessionRecorder:
    """A write-behind queue in front of a session store (one session at a time)."""

    def __init__(self, store: StoreLike, *, source: str, scenario: str | None = None) -> None:
        self.store = store
        self.source = source
        self.scenario = scenario
        self.session_id: str | None = None
        self.errors: list[str] = []  # one line each; shown by the command after the App exits
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="vnetdoctor-recorder", daemon=True)
        self._thread.start()

    # -- called from the UI thread: never blocks -------------------------------------
    def start(self, request: Request, on_started: Callable[[str], None] | None = None) -> None:
        self._queue.put(("start", request, on_started))

    def step(self, result: StepResult) -> None:
        self._queue.put(("step", result))

    def event(self, kind: str, detail: Mapping[str, Any]) -> None:
        self._queue.put(("event", kind, dict(detail)))

    def finish(self, diagnosis: Diagnosis) -> None:
        self._queue.put(("finish", diagnosis))

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the thread (waits at most ``timeout`` seconds)."""
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is written (tests and commands use it)."""
        done = threading.Event()
        self._queue.put(("flush", done))
        return done.wait(timeout)

    # -- the recorder's thread ----------------------------------------------------------
    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            try:
                self._handle(item)
            except Exception as exc:  # noqa: BLE001 - a failed write must not kill the session
                self.errors.append(f"{item[0]}: {type(exc).__name__}: {exc}".splitlines()[0])

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
