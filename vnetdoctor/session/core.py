"""One Session: runs the engine for one request and fans every event out to its sinks.

The CLI and the TUI drive a diagnosis through this one object, so they record
through the same path and see the same events: the TUI's bridge, the recorder and
the console's progress line are all *sinks*, callables that receive each event in
order, from whichever thread produced it (a sink that owns a UI hands the event to
its own thread). The diagnosis is delivered once per run that completes the walk:
the engine's own :class:`DiagnosisReady` for a whole walk, the session's for a
step run that leaves every planned step with a result.

What the operator did besides running steps (an answer, a fix applied, copied or
cancelled, a worker that failed) is a :class:`Noted` event through the same sinks.
Applying a fix is a session call (:meth:`Session.apply_fix`), so the command, its
outcome and the re-run of its step are recorded whoever asked for it.

Headless: no Textual here (import contract ``headless``).
"""

from __future__ import annotations

import threading
from functools import partial
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from vnetdoctor.knowledge.events import (
    AskFn,
    DiagnosisReady,
    EngineEvent,
    EngineLike,
    PlannedStep,
    StepFinished,
    StepStarted,
)
from vnetdoctor.knowledge.model import Diagnosis, Fix, Question, Request, StepResult
from vnetdoctor.probes.base import Observation
from vnetdoctor.probes.vantage import Vantage


@dataclass(frozen=True)
class Opened:
    """The session began (before any step): the recorder opens its record here."""

    request: Request


@dataclass(frozen=True)
class Noted:
    """Something the operator did or saw that is not a step: an answer, a fix, an error."""

    kind: str  # answer | fix_applied | fix_undone | fix_copied | fix_cancelled | rewalk | error
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Observed:
    """An observation made outside a step (the Tables screen's), so the record holds it too."""

    observation: Observation


SessionEvent = Opened | Noted | Observed | StepStarted | StepFinished | DiagnosisReady
Sink = Callable[[SessionEvent], object]  # what it returns is ignored
# Builds the engine (live, replayed, or a test's fake) for a request, with the session's ask and emit.
EngineFactory = Callable[[Request, AskFn, Callable[[EngineEvent], None]], EngineLike]


def live_engine_factory(request: Request, ask: AskFn, on_event: Callable[[EngineEvent], None]) -> EngineLike:
    """The real engine (imported here, not at start-up: it loads probes and the flowchart)."""
    from vnetdoctor.knowledge.engine import Engine

    return Engine(request, ask=ask, on_event=on_event)


REFUSED = 126  # the shell's "found but not runnable": a refused fix never ran


@dataclass(frozen=True)
class FixOutcome:
    """What applying a fix did: its exit status and output (126: refused, never run)."""

    fix: Fix
    step: str | None
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def refused(self) -> bool:
        return self.returncode == REFUSED


@dataclass
class Change:
    """A fix this session applied, what it returned, and its undo's outcome once undone.

    The changes panel lists these; ``before`` is the verdict the session had when the
    first change was made, so "was: CAUSE, now: healthy" survives the re-runs after it.
    """

    applied: FixOutcome
    undone: FixOutcome | None = None


def _run(run_probe: Callable[..., Observation], probe_id: str, vantage: Vantage, refresh: bool = False,
         **params: Any) -> Observation:
    return run_probe(probe_id, vantage, **params)


def fallback_answer(question: Question) -> str:
    """What an unanswered question counts as: "unknown" when offered, else the last choice."""
    if "unknown" in question.choices:
        return "unknown"
    return question.choices[-1] if question.choices else ""


def _outcome(diagnosis: Diagnosis) -> tuple[bool | None, frozenset[str]]:
    """What other steps' results hang on: whether the target answers, and the causes named."""
    return diagnosis.reachable, frozenset(f.cause for f in diagnosis.causes)


class Session:
    """The one door to a diagnosis: plan, run, re-run, observe, apply a fix; every event to every sink."""

    def __init__(
        self,
        request: Request,
        engine_factory: EngineFactory,
        *,
        sinks: Iterable[Sink] = (),
        ask: AskFn | None = None,
    ) -> None:
        self.request = request
        self._sinks: list[Sink] = list(sinks)
        self._ask = ask or fallback_answer
        # Both re-entrant: a signal handler closes the session in the main thread, which may
        # be inside either lock itself at that moment (a note from the UI being delivered).
        self._lock = threading.RLock()
        # Held while an event is handed to the sinks, so close() is a clean cut: an event is
        # either delivered in full before it or not at all.
        self._delivering = threading.RLock()
        self._planned: list[PlannedStep] = []
        self._opened = False
        self._closed = False
        self._in_run = False
        self.changes: list[Change] = []  # every fix applied here (refused ones never ran), in order
        self.before: Diagnosis | None = None  # the verdict before the first change
        self.engine = engine_factory(request, self._ask_operator, self._from_engine)

    # -- sinks -----------------------------------------------------------------------------
    def add_sink(self, sink: Sink) -> None:
        with self._lock:
            self._sinks.append(sink)

    def _emit(self, event: SessionEvent) -> None:
        with self._delivering:
            with self._lock:
                sinks = list(self._sinks) if not self._closed else []
            for sink in sinks:
                sink(event)

    def close(self, wait: float = 1.0) -> None:
        """The front end has gone (the operator quit, a signal): later events reach no sink.

        An engine thread may still be finishing a step it cannot be stopped in; what it
        finds after the session ended is not part of the record (which says the session
        was interrupted, not that a walk nobody watched completed). An event being
        delivered right now is let through first (sinks only queue or post, so that takes
        microseconds); ``wait`` bounds it, should a sink be stuck on a dead terminal.
        """
        with self._lock:
            self._closed = True  # first: no new delivery starts (the lock is not fair to us)
        if self._delivering.acquire(timeout=wait):  # then the one under way, if any, ends
            self._delivering.release()

    @property
    def closed(self) -> bool:
        with self._lock:
            return self._closed

    def _from_engine(self, event: EngineEvent) -> None:
        if isinstance(event, DiagnosisReady) and not self._in_run:
            return  # only a whole walk's verdict is the engine's to deliver; see run_step
        self._emit(event)

    def _ask_operator(self, question: Question) -> str:
        answer = self._ask(question)
        self.note("answer", {"step": question.step, "question": question.text, "answer": answer})
        return answer

    # -- the walk ---------------------------------------------------------------------------
    def open(self) -> None:
        """Announce the session (the recorder starts its record); once, before any step."""
        with self._lock:
            if self._opened:
                return
            self._opened = True
        self._emit(Opened(self.request))

    def plan(self) -> list[PlannedStep]:
        self._planned = list(self.engine.plan())
        return list(self._planned)

    def run(self) -> Diagnosis:
        """The whole walk; its verdict reaches every sink once (the engine's DiagnosisReady)."""
        self.open()
        self._in_run = True
        try:
            return self.engine.run()
        finally:
            self._in_run = False

    def run_step(self, step_id: str) -> StepResult:
        """One step (or a re-run); when every planned step then has a result, the verdict follows.

        A re-run that changes the outcome (the target now answers, a cause is gone: a fix
        worked) leaves the other steps' results describing a state that is no more ("not
        needed: X already explains it"); those steps are walked again, announced by a
        ``rewalk`` note, so the verdict and every step agree and each one's latest run
        (what replay and export show) is true of the present.
        """
        self.open()
        before = self.engine.results()
        outcome = _outcome(self.engine.diagnosis()) if before else None
        result = self.engine.run_step(step_id)
        rewalk = getattr(self.engine, "rewalk", None)  # a test's fake engine may have none
        now = self.engine.results()
        stale = [s for s, r in before.items() if now.get(s) is r]  # not re-run just now
        if rewalk is not None and stale and outcome != _outcome(self.engine.diagnosis()):
            self.note("rewalk", {"step": step_id, "steps": stale})
            rewalk(stale)
        if self.complete:
            self._emit(DiagnosisReady(self.engine.diagnosis()))
        return result

    def note(self, kind: str, detail: Mapping[str, Any]) -> None:
        self._emit(Noted(kind, dict(detail)))

    def results(self) -> dict[str, StepResult]:
        return self.engine.results()

    def diagnosis(self) -> Diagnosis:
        return self.engine.diagnosis()

    def path_points(self) -> list[tuple[Vantage, str]]:
        return self.engine.path_points()

    @property
    def complete(self) -> bool:
        planned = {s.id for s in self._planned}
        return bool(planned) and planned <= set(self.engine.results())

    # -- observations -----------------------------------------------------------------------
    def observe(self, probe_id: str, vantage: Vantage, *, refresh: bool = False, **params: Any) -> Observation:
        """One probe's observation through the engine's observer (live, or served from a record)."""
        observe = getattr(self.engine, "observe", None)
        if observe is None:  # an engine without an observer (a test's fake): the probe itself
            from vnetdoctor.probes.base import run_probe

            observe = partial(_run, run_probe)
        obs: Observation = observe(probe_id, vantage, refresh=refresh, **params)
        self._emit(Observed(obs))
        return obs

    def observations(self) -> list[Observation]:
        """Every observation the session holds now (its steps' first): live, or a replay's selected point."""
        own = getattr(self.engine, "observations", None)
        if own is not None:
            return list(own())
        return [o for r in self.engine.results().values() for o in r.observations]

    def capture_runs(self) -> list[list[Observation]]:
        """The observations of each walk (the first, then each re-run) a record holds; live: the latest."""
        own = getattr(self.engine, "capture_runs", None)
        return list(own()) if own is not None else [self.observations()]

    @property
    def serves_record(self) -> bool:
        """True when observations come from a record (a replay): nothing shown is fresh."""
        return bool(getattr(self.engine, "serves_record", False))

    # -- changing the system --------------------------------------------------------------
    def refusal(self, fix: Fix) -> str | None:
        """Why this fix must not be run from here (guidance, a place this host cannot enter), or None."""
        from vnetdoctor.knowledge.apply import FixRefused, fix_target

        try:
            fix_target(fix)
        except FixRefused as exc:
            return str(exc)
        return None

    def apply_fix(self, fix: Fix, step_id: str | None, timeout: float, *, rerun: bool = True) -> FixOutcome:
        """Run the fix's argv where it says, without a shell; record it; re-run its step.

        A fix that is guidance or names a place this host cannot enter is refused
        (126, never run). ``rerun=False``: the caller re-runs the step itself (the TUI
        shows the outcome first). Blocking: the TUI calls it from a worker.
        """
        if self.before is None and self.engine.results():
            self.before = self.engine.diagnosis()
        outcome = self._run_fix(fix, step_id, timeout)
        self.note("fix_applied", {**fix.to_dict(), "step": step_id, "returncode": outcome.returncode,
                                  "output": outcome.output[-2000:]})
        if not outcome.refused:
            self.changes.append(Change(outcome))
        if rerun and step_id and not outcome.refused:
            self.run_step(step_id)
        return outcome

    def undo_fix(self, change: Change, timeout: float, *, rerun: bool = True) -> FixOutcome:
        """Run the undo of an applied change (its undo argv, last step first), the same way as a fix.

        Recorded as ``fix_undone`` with the fix it takes back; then the step re-runs,
        as after the fix. A change with no undo recorded, or whose undo ran already, is
        refused (126, nothing runs): the fix is made again from its step, as observed now.
        """
        from vnetdoctor.knowledge.apply import FixRefused, undo_of

        applied = change.applied
        try:
            if change.undone is not None:  # a failed undo may have run some of its steps
                raise FixRefused("this change was undone already")
            undo = undo_of(applied.fix)
        except FixRefused as exc:
            outcome = FixOutcome(applied.fix, applied.step, REFUSED, str(exc))
        else:
            outcome = self._run_fix(undo, applied.step, timeout)
        # The same fix record as fix_applied (its command, and the undo that ran now), so a
        # reader pairs the two events by the command.
        self.note("fix_undone", {**applied.fix.to_dict(), "step": applied.step, "returncode": outcome.returncode,
                                 "output": outcome.output[-2000:]})
        if not outcome.refused:
            change.undone = outcome
        if rerun and applied.step and not outcome.refused:
            self.run_step(applied.step)
        return outcome

    @staticmethod
    def _run_fix(fix: Fix, step_id: str | None, timeout: float) -> FixOutcome:
        from vnetdoctor.knowledge.apply import FixRefused, apply_fix

        try:
            res = apply_fix(fix, timeout)
        except FixRefused as exc:
            return FixOutcome(fix, step_id, REFUSED, str(exc))
        return FixOutcome(fix, step_id, res.returncode, (res.stdout + res.stderr).strip())
