"""What the engine tells its subscribers while it walks (the TUI, the session store, the CLI).

Events are small frozen dataclasses delivered through one callback, from whatever
thread the engine runs in: a subscriber that owns a UI must hand them over to its
own thread (the TUI posts them as messages).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

from vnetdoctor.probes.vantage import Vantage

from .model import Diagnosis, Question, Request, StepResult


@dataclass(frozen=True)
class PlannedStep:
    """A step of the walk for this request, before it runs."""

    id: str
    layer: str
    title: str
    kind: str = "probe"  # "probe" | "question"


@dataclass(frozen=True)
class StepStarted:
    step: str


@dataclass(frozen=True)
class StepFinished:
    result: StepResult


@dataclass(frozen=True)
class DiagnosisReady:
    diagnosis: Diagnosis


EngineEvent = StepStarted | StepFinished | DiagnosisReady
EventSink = Callable[[EngineEvent], None]
AskFn = Callable[[Question], str]


class EngineLike(Protocol):
    """What a front end needs from the engine (the real one, or a replay/fake)."""

    request: Request

    def plan(self) -> list[PlannedStep]:
        """The steps of the walk in order (symptom, platform, physical … application)."""

    def run_step(self, step_id: str) -> StepResult:
        """Run (or re-run) one step now; emits StepStarted/StepFinished. Blocking."""

    def run(self) -> Diagnosis:
        """Run every step in order (stopping early per the engine's policy); emits events."""

    def results(self) -> dict[str, StepResult]:
        """Results so far, by step id."""

    def diagnosis(self) -> Diagnosis:
        """The verdict from the results so far."""

    def path_points(self) -> list[tuple[Vantage, str]]:
        """(vantage, interface) pairs along the path, host side first: where to capture."""
