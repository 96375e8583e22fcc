"""A recorded session played back as an engine: the same events, no probes.

Replay must show a session exactly as it was seen live, so it is not a separate
viewer: :class:`ReplayEngine` implements the same ``EngineLike`` protocol as the
real engine and emits the recorded ``StepResult`` objects as ``StepStarted`` /
``StepFinished`` / ``DiagnosisReady`` events, which every front end already
renders. Nothing here touches the system: ``run_step`` hands back what was
recorded, it never re-runs a probe. Headless (no Textual), like the rest of
``knowledge``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from vnetdoctor.probes.base import Observation
from vnetdoctor.probes.vantage import Vantage
from vnetdoctor.probes.vocabulary import layer_rank

from .events import AskFn, DiagnosisReady, EventSink, PlannedStep, StepFinished, StepStarted
from .model import ASK, FAIL, Diagnosis, Request, StepResult
from .observer import RecordedObserver
from .path import PathPoint



class RecordedLike(Protocol):
    """What replay needs from ``vnetdoctor.store.RecordedSession``."""

    request: Request

    def latest_steps(self) -> tuple[StepResult, ...]: ...
    def as_diagnosis(self) -> Diagnosis | None: ...


class ReplayEngine:
    """``EngineLike`` over recorded results: plan = the recorded steps, run = emit them again."""

    serves_record = True  # what it serves comes from a record: screens say "recorded", nothing is fresh

    def __init__(
        self,
        request: Request,
        steps: Sequence[StepResult],
        diagnosis: Diagnosis | None = None,
        *,
        ask: AskFn | None = None,  # accepted for the factory's signature; a replay never asks
        on_event: EventSink | None = None,
        observations: Iterable[Observation] = (),
    ) -> None:
        self.request = request
        self._steps = list(steps)
        self._recorded = diagnosis
        self._emit: EventSink = on_event or (lambda event: None)
        self._fed: dict[str, StepResult] = {}
        # Every observation of the record, steps first then those seen outside a step (the
        # Tables screen's), served through the live observer's interface; later ones win.
        self._observer = RecordedObserver([*(o for s in self._steps for o in s.observations), *observations])

    @classmethod
    def from_recorded(
        cls, session: RecordedLike, *, ask: AskFn | None = None, on_event: EventSink | None = None
    ) -> ReplayEngine:
        return cls(session.request, session.latest_steps(), session.as_diagnosis(), ask=ask, on_event=on_event)

    def observe(self, probe_id: str, vantage: Vantage, refresh: bool = False, **params: Any) -> Observation:
        """What the record holds for this probe (``skipped: not in the recording`` otherwise); never runs one."""
        return self._observer.observe(probe_id, vantage, **params)

    # -- EngineLike ------------------------------------------------------------------------
    def plan(self) -> list[PlannedStep]:
        return [
            PlannedStep(s.step, s.layer, s.title or s.step, "question" if (s.status == ASK or s.answer) else "probe")
            for s in self._steps
        ]

    def run_step(self, step_id: str) -> StepResult:
        for result in self._steps:
            if result.step == step_id:
                self._feed(result)
                return result
        raise KeyError(f"step {step_id!r} is not in this recorded session")

    def run(self) -> Diagnosis:
        for result in self._steps:
            self._feed(result)
        diagnosis = self.diagnosis()
        self._emit(DiagnosisReady(diagnosis))
        return diagnosis

    def results(self) -> dict[str, StepResult]:
        return dict(self._fed)

    def diagnosis(self) -> Diagnosis:
        """The recorded verdict once everything was fed; before that, what the fed steps found."""
        if self._recorded is not None and len(self._fed) == len(self._steps):
            return self._recorded
        fed = [s for s in self._steps if s.step in self._fed]
        causes = sorted(
            (f for s in fed for f in s.findings),
            key=lambda f: (layer_rank(f.layer), f.severity != FAIL),
        )
        return Diagnosis(
            request=self.request,
            reachable=self._recorded.reachable if self._recorded is not None else None,
            causes=tuple(causes),
            steps=tuple(fed),
            duration_ms=sum(s.duration_ms for s in fed),
            target=self._recorded.target if self._recorded is not None else self.request.target,
        )

    def path_points(self) -> list[tuple[Vantage, str]]:
        """The path's interfaces as recorded in the verdict (``extra["path"]``: PathPoint records)."""
        extra: Any = self._recorded.extra if self._recorded is not None else {}
        hops: Iterable[Any] = extra.get("path", ()) if hasattr(extra, "get") else ()
        points: list[tuple[Vantage, str]] = []
        for hop in hops:
            if not isinstance(hop, PathPoint) or not hop.iface:
                continue
            vantage = self.request.guest if hop.side == "guest" and self.request.guest else self.request.host
            if (vantage, hop.iface) not in points:
                points.append((vantage, hop.iface))
        return points

    # -- internals ---------------------------------------------------------------------------
    def _feed(self, result: StepResult) -> None:
        self._emit(StepStarted(result.step))
        self._fed[result.step] = result
        self._emit(StepFinished(result))
