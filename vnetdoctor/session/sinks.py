"""The sinks a Session fans its events out to, besides the TUI's bridge: the recorder and the console.

Each is a callable taking one event, called from whichever thread produced it; none
blocks (the recorder queues, the progress line writes one short line), so a sink
never slows the walk it follows.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from typing import TextIO

from vnetdoctor.knowledge.events import DiagnosisReady, StepFinished, StepStarted
from vnetdoctor.knowledge.observer import Key, key_of
from vnetdoctor.knowledge.text import display_width
from vnetdoctor.probes.base import Observation

from .core import Noted, Observed, Opened, Session, SessionEvent
from .recorder import SessionRecorder


# The event kind of an observation made outside a step; replay serves it back (session.replay).
OBSERVATION = "observation"


class RecordSink:
    """Every event that belongs in the record, to the write-behind recorder, in order.

    ``on_started(session_id)`` is called from the recorder's thread once the store
    has created the session (the TUI posts it as a message).
    """

    def __init__(self, recorder: SessionRecorder, on_started: Callable[[str], object] | None = None) -> None:
        self.recorder = recorder
        self.on_started = on_started
        self._last_observed: dict[Key, dict[str, object]] = {}

    def __call__(self, event: SessionEvent) -> None:
        if isinstance(event, Opened):
            self.recorder.start(event.request, self._started)
        elif isinstance(event, StepFinished):
            self.recorder.step(event.result)
        elif isinstance(event, Noted):
            self.recorder.event(event.kind, event.detail)
        elif isinstance(event, Observed):
            self._observed(event.observation)
        elif isinstance(event, DiagnosisReady):
            self.recorder.finish(event.diagnosis)

    def _observed(self, obs: Observation) -> None:
        """Record a Tables observation when it says something new for its probe and vantage.

        Auto-refresh polls every few seconds; a table that did not change would otherwise
        add the same rows to the record at every poll.
        """
        doc = obs.to_dict()
        key = key_of(obs.probe, obs.vantage, dict(obs.params))
        content = {k: v for k, v in doc.items() if k != "duration_ms"}
        if self._last_observed.get(key) == content:
            return
        self._last_observed[key] = content
        self.recorder.event(OBSERVATION, doc)

    def _started(self, session_id: str) -> None:
        if self.on_started is not None:
            self.on_started(session_id)


def attach_recorder(
    session: Session, recorder: SessionRecorder | None, on_started: Callable[[str], object] | None = None
) -> RecordSink | None:
    """Record ``session`` through ``recorder``: the one way every front end records (None: not recorded).

    ``diagnose`` calls it on the Session it runs; the TUI's App on the Session of each
    walk it opens, before the walk's first event, so both record the same events in the
    same order through the same sink, and no screen takes part in recording.
    """
    if recorder is None:
        return None
    sink = RecordSink(recorder, on_started)
    session.add_sink(sink)
    return sink


# (done, total, seconds, step title or None) -> the line, in the operator's language.
ProgressFormat = Callable[[int, int, float, "str | None"], str]


class ProgressLine:
    """``7/20 · 1.2 s · running: Routing table`` on a terminal's stderr, redrawn in place.

    Only on a terminal: a script reading stderr gets nothing from this sink (the
    command does not attach it). The line is erased before the report is printed.
    """

    def __init__(self, total: int, titles: dict[str, str], fmt: ProgressFormat, stream: TextIO | None = None) -> None:
        self.total = total
        self.titles = titles
        self.fmt = fmt
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.done = 0
        self._width = 0

    def __call__(self, event: SessionEvent) -> None:
        if isinstance(event, StepStarted):
            self._draw(self.titles.get(event.step, event.step))
        elif isinstance(event, StepFinished):
            self.done += 1
            self._draw(None)
        elif isinstance(event, DiagnosisReady):
            self.clear()

    def _draw(self, running: str | None) -> None:
        line = self.fmt(min(self.done, self.total), self.total, time.monotonic() - self.started, running)
        line = _fit(line, shutil.get_terminal_size().columns - 1)  # a wrapped line cannot be redrawn
        width = display_width(line)
        self.stream.write("\r" + line + " " * max(0, self._width - width))
        self.stream.flush()
        self._width = width

    def clear(self) -> None:
        if self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


def _fit(line: str, columns: int) -> str:
    """``line`` cut to ``columns`` terminal columns (a CJK character takes two)."""
    if display_width(line) <= columns:
        return line
    out = ""
    for ch in line:
        if display_width(out + ch) > columns - 1:
            break
        out += ch
    return out + "…"
