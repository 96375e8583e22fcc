"""The one fake engine: ``EngineLike`` over hand-built ``StepResult``s, for the unit and TUI tests.

The session core and the TUI are tested against the same stand-in, so a behaviour the
real engine has (events from the worker thread, a question asked through the real
``ask`` callback, a rewalk after an outcome changed) is faked once. It is
deterministic (fixed durations, no clock) and can be held at any step by a
``threading.Event`` gate (tests release it; nothing sleeps). ``busy_ms`` makes every
step burn real CPU in its thread, for the key-latency benchmark.

What the real engine does that not every test wants is opt-in, so a walk a snapshot
shows does not change under it: ``result_of`` (a step's result read from the world when
it runs), ``symptom_first``, ``rewalks`` and ``observer``.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from vnetdoctor.knowledge.events import AskFn, DiagnosisReady, EventSink, PlannedStep, StepFinished, StepStarted
from vnetdoctor.knowledge.model import FAIL, PASS, WARN, Diagnosis, Question, Request, StepResult
from vnetdoctor.probes.base import Observation
from vnetdoctor.probes.vantage import Vantage

SYMPTOM = "symptom.ping"  # whose status says whether the target answers, as in the real engine


def plan_of(results: Sequence[StepResult], question_step: str | None = None) -> list[PlannedStep]:
    return [
        PlannedStep(r.step, r.layer, r.title, "question" if r.step == question_step else "probe") for r in results
    ]


@dataclass
class FakeEngine:
    """``EngineLike`` over fixed results; gates and questions make it behave like a live walk.

    ``scripted`` is the walk: its plan, in order, and each step's result unless
    ``result_of`` says what the step sees when it runs (a fix changed the world).
    """

    request: Request
    scripted: list[StepResult] = field(default_factory=list)
    ask: AskFn | None = None
    on_event: EventSink | None = None
    question: Question | None = None  # asked when its step runs
    gates: Mapping[str, threading.Event] = field(default_factory=dict)
    busy_ms: float = 0.0  # real CPU work per step, in the worker thread
    fixed_results: dict[str, StepResult] = field(default_factory=dict)  # replaces a step's result once fixed
    points: Sequence[tuple[Vantage, str]] = ()  # the path a capture listens on
    result_of: Callable[[str], StepResult] | None = None  # the step's result as the world is when it runs
    # Like the real engine: a step's first run, or any re-run, takes the symptom afresh first.
    symptom_first: bool = False
    rewalks: bool = False  # has ``rewalk``, so the Session walks stale steps again after a fix
    observer: Callable[[str, Vantage], Observation] | None = None  # has ``observe``, served by this
    duration_ms: float = 1312.0
    target: str | None = None  # the address the walk found (the real engine discovers one); else the request's
    _results: dict[str, StepResult] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    answered: threading.Event = field(default_factory=threading.Event)  # set once ask() returned
    rewalked: list[list[str]] = field(default_factory=list)
    observed: list[tuple[str, str]] = field(default_factory=list)  # (probe, vantage) asked of observe()

    def _emit(self, event: object) -> None:
        if self.on_event is not None:
            self.on_event(event)  # type: ignore[arg-type]

    def plan(self) -> list[PlannedStep]:
        return plan_of(self.scripted, self.question.step if self.question else None)

    def _scripted(self, step_id: str) -> StepResult:
        if step_id in self.fixed_results and step_id in self._results:  # a re-run after the fix
            return self.fixed_results[step_id]
        if self.result_of is not None:
            return self.result_of(step_id)
        for r in self.scripted:
            if r.step == step_id:
                return r
        raise KeyError(step_id)

    def run_step(self, step_id: str) -> StepResult:
        if self.symptom_first and step_id != SYMPTOM and (SYMPTOM not in self._results or step_id in self._results):
            self._run_one(SYMPTOM)
        return self._run_one(step_id)

    def _run_one(self, step_id: str) -> StepResult:
        self.calls.append(step_id)
        self._emit(StepStarted(step_id))
        gate = self.gates.get(step_id)
        if gate is not None:
            gate.wait(timeout=30)
        if self.busy_ms:
            burn(self.busy_ms)
        result = self._scripted(step_id)
        if self.question is not None and step_id == self.question.step:
            answer = self.ask(self.question) if self.ask else "unknown"
            self.answers.append(answer)
            self.answered.set()
            status = {"yes": PASS, "no": FAIL}.get(answer, WARN)
            result = replace(result, status=status, answer=answer, note="asked the operator")
        self._results[step_id] = result
        self._emit(StepFinished(result))
        return result

    def run(self) -> Diagnosis:
        for r in self.scripted:
            self.run_step(r.step)
        d = self.diagnosis()
        self._emit(DiagnosisReady(d))
        return d

    @property
    def rewalk(self) -> Callable[[list[str]], None] | None:
        """None unless ``rewalks``: the Session rewalks only an engine that has one (``getattr``)."""
        return self._rewalk if self.rewalks else None

    def _rewalk(self, step_ids: list[str]) -> None:
        """These steps again, in walk order, on the world as it is now (as the real engine does)."""
        self.rewalked.append(list(step_ids))
        for r in self.scripted:
            if r.step in step_ids:
                self._run_one(r.step)

    @property
    def observe(self) -> Callable[..., Observation] | None:
        """None unless an ``observer`` is given: then the Session runs the real probe itself."""
        return self._observe if self.observer is not None else None

    def _observe(self, probe_id: str, vantage: Vantage, refresh: bool = False, **params: Any) -> Observation:
        assert self.observer is not None
        self.observed.append((probe_id, str(vantage)))
        return self.observer(probe_id, vantage)

    def results(self) -> dict[str, StepResult]:
        return dict(self._results)

    def diagnosis(self) -> Diagnosis:
        """Causes are the findings of the steps run so far; the target answers if the symptom passed."""
        done = [self._results[r.step] for r in self.scripted if r.step in self._results]
        causes = tuple(f for r in done for f in r.findings)
        symptom = self._results.get(SYMPTOM)
        reachable = None if symptom is None else symptom.status == PASS
        return Diagnosis(self.request, reachable, causes, tuple(done), duration_ms=self.duration_ms,
                         target=self.target or self.request.target)

    def path_points(self) -> list[tuple[Vantage, str]]:
        return list(self.points)

    @classmethod
    def recorded(cls, request: Request, results: Sequence[StepResult] = (), *,
                 points: Sequence[tuple[Vantage, str]] = ()) -> FakeEngine:
        """An engine whose steps have all run already (a replay, or Tables/Packets over a walk)."""
        engine = cls(request, list(results), points=points)
        engine._results = {r.step: r for r in results}
        return engine


def burn(ms: float) -> None:
    """Real CPU work for ``ms`` milliseconds in the calling thread (holds the GIL in bursts)."""
    end = time.perf_counter() + ms / 1000.0
    data = b"x" * 4096
    while time.perf_counter() < end:
        data = hashlib.sha256(data).digest() * 128
