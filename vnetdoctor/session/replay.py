"""Replay is a Session built from a record: the same events, observations served from the record.

The recorded steps are emitted again by a :class:`~vnetdoctor.knowledge.replay.ReplayEngine`
as the live engine emitted them, and every observation the record holds (the steps',
and those the Tables screen made outside a step) is served through the live
observer's interface, so a screen asks the session for its data the same way live
and in replay. Nothing here runs a probe or changes the system.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from vnetdoctor.knowledge.events import AskFn, DiagnosisReady, EngineLike, EventSink, StepFinished
from vnetdoctor.knowledge.model import Diagnosis, Request
from vnetdoctor.knowledge.observer import RecordedObserver
from vnetdoctor.knowledge.replay import ReplayEngine
from vnetdoctor.probes.base import Observation

from .core import EngineFactory, Session, Sink
from .sinks import OBSERVATION
from .timeline import Frame, Timeline, build_timeline


def recorded_observations(recorded: Any) -> list[Observation]:
    """The observations recorded outside a step (``observation`` events), in order."""
    out: list[Observation] = []
    for event in getattr(recorded, "events", ()):
        if event.kind != OBSERVATION:
            continue
        try:
            out.append(Observation.from_dict(event.detail))
        except (KeyError, TypeError, ValueError):
            continue  # an event this version cannot read serves nothing, never a crash
    return out


FRAMES_TIMEOUT = 60.0  # seconds a worker waits for a record's frames (millions of frames, a slow disk)


@dataclass(frozen=True)
class StepCleared:
    """Replay moved back before this step's first result: it shows as not run."""

    step: str


@dataclass(frozen=True)
class ReplayMoved:
    """Replay now shows the session as it stood at ``frame.position`` of the timeline."""

    frame: Frame


class TimelineReplay(ReplayEngine):
    """A replay that can be steered: the state after any moment of the record's timeline.

    ``run`` plays to the end as before (the record's verdict); :meth:`seek` moves to
    any moment, emitting the step results that changed (``StepFinished``), the steps
    that had not run yet (:class:`StepCleared`) and :class:`ReplayMoved` with the
    frame. Observations (a table, the captured packets) are served from the frame,
    so every screen shows the selected point through the observer, never the end.
    """

    def __init__(self, recorded: Any, *, ask: AskFn | None = None, on_event: EventSink | None = None,
                 timeline: Timeline | None = None,
                 with_frames: Callable[[Any], Any] | None = None) -> None:
        super().__init__(recorded.request, recorded.latest_steps(), recorded.as_diagnosis(), ask=ask,
                         on_event=on_event, observations=recorded_observations(recorded))
        self._record = recorded
        self._with_frames = with_frames  # puts back frames the record was loaded without
        # Set once every frame is served: a screen's worker asking for observations before
        # then waits, rather than list a capture without its packets.
        self._frames_ready = threading.Event()
        if not getattr(recorded, "frames_left_out", ()) or with_frames is None:
            self._frames_ready.set()
        self.timeline = timeline or build_timeline(recorded)
        self.position = len(self.timeline)
        self._frame = self.timeline.at(self.position)

    def seek(self, position: int) -> Frame:
        """Show the session after moment ``position - 1`` (0: before anything); returns the frame."""
        frame = self.timeline.at(position)
        for step in self.timeline.step_ids:
            now, was = frame.results.get(step), self._fed.get(step)
            if now is None and was is not None:
                del self._fed[step]
                self._emit(StepCleared(step))  # type: ignore[arg-type]
            elif now is not None and now is not was:
                self._fed[step] = now
                self._emit(StepFinished(now))
        self.position, self._frame = frame.position, frame
        later = self.timeline.at(len(self.timeline)).observations if not frame.at_end else ()
        self._observer = RecordedObserver(frame.observations, later)
        self._emit(ReplayMoved(frame))  # type: ignore[arg-type]
        return frame

    def run(self) -> Diagnosis:
        """Play to the end; a record loaded without its frames gets them back after the verdict.

        The steps that hold no frames and the verdict (which never depends on them) come
        first, so the walk is on screen at once; the steps whose frames stayed in the
        store show as not run until they are read back and fed, seconds later at 100k
        frames — never as a capture that saw nothing.
        """
        left_out = set(getattr(self._record, "frames_left_out", ()))
        if not left_out or self._with_frames is None:
            diagnosis = super().run()
            self.position, self._frame = len(self.timeline), self.timeline.at(len(self.timeline))
            return diagnosis
        waiting = {self._record.steps[i].step for i in left_out}
        for result in self._steps:
            if result.step not in waiting:
                self._feed(result)
        self._emit(DiagnosisReady(self._recorded or self.diagnosis()))
        try:
            self._adopt(self._with_frames(self._record))
        finally:
            self._frames_ready.set()
        for result in self._steps:
            if result.step in waiting:
                self._feed(result)
        return self.diagnosis()

    def _wait_for_frames(self) -> None:
        """Serve nothing without its frames: a capture listed without them would claim it saw nothing."""
        if not self._frames_ready.wait(FRAMES_TIMEOUT):
            raise TimeoutError(f"the record's captured frames are still being read after {FRAMES_TIMEOUT:g} s")

    def _adopt(self, recorded: Any) -> None:
        """Serve ``recorded`` (the same record, frames put back) from now on."""
        self._record = recorded
        self._steps = list(recorded.latest_steps())
        self._recorded = recorded.as_diagnosis()
        self.timeline = build_timeline(recorded)
        self.position, self._frame = len(self.timeline), self.timeline.at(len(self.timeline))
        self._observer = RecordedObserver(self._frame.observations)

    def diagnosis(self) -> Diagnosis:
        if self.position == len(self.timeline):
            return super().diagnosis()
        return self._frame.diagnosis

    def observations(self) -> list[Observation]:
        """Every observation the session holds at the selected point (steps' first).

        Blocking until the frames are back (callers are workers, never the UI thread).
        """
        self._wait_for_frames()
        return list(self._frame.observations)

    def capture_runs(self) -> list[list[Observation]]:
        """The observations of each walk up to the selected point: the first, then each re-run."""
        self._wait_for_frames()
        runs: dict[int, list[Observation]] = {}
        for moment in self.timeline.moments[: self.position]:
            if moment.result is not None:
                runs.setdefault(moment.run, []).extend(moment.result.observations)
        return [runs[k] for k in sorted(runs)]


def replay_factory(recorded: Any, with_frames: Callable[[Any], Any] | None = None) -> EngineFactory:
    """The engine factory of a replay: the record's timeline, steps, verdict and observations.

    ``with_frames``: reads back the frames of a record loaded without them
    (``SessionStore.with_frames``), called from the engine's worker after the verdict.
    """

    def factory(request: Request, ask: AskFn, on_event: Any) -> EngineLike:
        return TimelineReplay(recorded, ask=ask, on_event=on_event, with_frames=with_frames)

    return factory


def replay_session(recorded: Any, *, sinks: Iterable[Sink] = ()) -> Session:
    """A Session over a record (headless uses: tests, export); the TUI builds it through the factory."""
    return Session(recorded.request, replay_factory(recorded), sinks=sinks)


__all__ = ["ReplayMoved", "StepCleared", "TimelineReplay", "recorded_observations", "replay_factory",
           "replay_session"]
