"""After a re-run changes the outcome (a fix worked), the session walks the other steps again.

Found walking the firewall lab in the TUI: after `f` the verdict turned healthy but the
MTU step still said "small pings do not pass yet" and TCP/DNS "not needed:
firewall.guest_blocks already explains the failure", in replay and export too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.unit.support import store_fixtures as F

from vnetdoctor.knowledge.events import DiagnosisReady, PlannedStep, StepFinished, StepStarted
from vnetdoctor.knowledge.model import Diagnosis, Finding, Request, StepResult
from vnetdoctor.probes.vantage import Vantage
from vnetdoctor.report import render_markdown
from vnetdoctor.session import Noted, Session
from vnetdoctor.session.recorder import SessionRecorder
from vnetdoctor.session.sinks import RecordSink
from vnetdoctor.store import SessionStore

STEPS = (("symptom.ping", "symptom"), ("firewall", "network"), ("mtu", "datalink"), ("tcp", "transport"))
CAUSE = "firewall.guest_blocks"


@dataclass
class World:
    """What a step would observe now: the guest's firewall drops pings, until fixed."""

    broken: bool = True


@dataclass
class Engine:
    """An EngineLike whose steps describe ``world`` as it is when they run, with a rewalk."""

    request: Request
    ask: Any
    on_event: Any
    world: World
    rewalked: list[list[str]] = field(default_factory=list)
    _results: dict[str, StepResult] = field(default_factory=dict)

    def plan(self) -> list[PlannedStep]:
        return [PlannedStep(step, layer, step) for step, layer in STEPS]

    def _result(self, step: str, layer: str) -> StepResult:
        broken = self.world.broken
        if step == "firewall" and broken:
            return StepResult(step, layer, step, "fail", "drops echo",
                              findings=(Finding(CAUSE, layer, "the guest drops pings"),))
        if step == "mtu" and broken:
            return StepResult(step, layer, step, "skip", "small pings do not pass yet")
        if step == "tcp" and broken:
            return StepResult(step, layer, step, "skip", f"not needed: {CAUSE} already explains the failure")
        if step == "symptom.ping" and broken:
            return StepResult(step, layer, step, "fail", "no reply")
        return StepResult(step, layer, step, "pass", "fine now")

    def run_step(self, step_id: str) -> StepResult:
        if step_id != "symptom.ping":  # like the engine: a step's run takes the symptom afresh
            self._one("symptom.ping")
        return self._one(step_id)

    def _one(self, step_id: str) -> StepResult:
        self.on_event(StepStarted(step_id))
        result = self._result(step_id, dict(STEPS)[step_id])
        self._results[step_id] = result
        self.on_event(StepFinished(result))
        return result

    def rewalk(self, step_ids: list[str]) -> None:
        self.rewalked.append(list(step_ids))
        for step, _layer in STEPS:
            if step in step_ids:
                self._one(step)

    def run(self) -> Diagnosis:
        for step, _layer in STEPS:
            self._one(step)
        d = self.diagnosis()
        self.on_event(DiagnosisReady(d))
        return d

    def results(self) -> dict[str, StepResult]:
        return dict(self._results)

    def diagnosis(self) -> Diagnosis:
        steps = tuple(self._results[s] for s, _ in STEPS if s in self._results)
        causes = tuple(f for r in steps for f in r.findings)
        reachable = None if "symptom.ping" not in self._results else self._results["symptom.ping"].status == "pass"
        return Diagnosis(self.request, reachable, causes, steps)

    def path_points(self) -> list[tuple[Vantage, str]]:
        return []


def _session(world: World, sinks: list[Any]) -> tuple[Session, list[Engine]]:
    engines: list[Engine] = []

    def factory(request: Request, ask: Any, on_event: Any) -> Engine:
        engines.append(Engine(request, ask, on_event, world))
        return engines[-1]

    session = Session(F.request(), factory, sinks=sinks)
    session.plan()
    return session, engines


def test_a_rerun_that_changes_the_outcome_walks_the_other_steps_again() -> None:
    world, events = World(), list[object]()
    session, (engine,) = _session(world, [events.append])
    session.run()
    world.broken = False  # the fix was applied
    events.clear()
    session.run_step("firewall")
    # The steps that had run before and were not just re-run, in walk order.
    assert engine.rewalked == [["mtu", "tcp"]]
    notes = [e for e in events if isinstance(e, Noted)]
    assert [(n.kind, n.detail["step"]) for n in notes] == [("rewalk", "firewall")]
    # The note comes before the steps it announces, the verdict after all of them, once.
    finished = [i for i, e in enumerate(events) if isinstance(e, StepFinished)]
    assert finished[1] < events.index(notes[0]) < finished[-2]
    assert [type(e) for e in events].count(DiagnosisReady) == 1
    assert isinstance(events[-1], DiagnosisReady) and events[-1].diagnosis.reachable
    for result in session.results().values():
        assert "not needed" not in result.note and "do not pass yet" not in result.note, result


def test_a_rerun_that_changes_nothing_runs_only_its_step() -> None:
    world, events = World(), list[object]()
    session, (engine,) = _session(world, [events.append])
    session.run()
    events.clear()
    session.run_step("firewall")  # nothing was fixed: same outcome
    assert engine.rewalked == []
    assert not any(isinstance(e, Noted) for e in events)
    assert [e.result.step for e in events if isinstance(e, StepFinished)] == ["symptom.ping", "firewall"]


def test_a_first_run_of_a_step_in_a_guided_walk_never_rewalks() -> None:
    world = World()
    session, (engine,) = _session(world, [])
    session.run_step("symptom.ping")
    world.broken = False
    session.run_step("firewall")  # a new step, not a re-run: the walk goes on step by step
    assert engine.rewalked == []


def test_the_record_and_its_export_show_each_steps_latest_run(tmp_path: Path) -> None:
    world = World()
    store = SessionStore(tmp_path / "s.db")
    recorder = SessionRecorder(store, source="diagnose")
    session, _ = _session(world, [])
    session.add_sink(RecordSink(recorder))
    session.run()
    world.broken = False
    session.run_step("firewall")
    assert recorder.close().complete and not recorder.errors
    loaded = store.load(recorder.session_id or "")
    assert {s.step: s.status for s in loaded.latest_steps()} == {s: "pass" for s, _ in STEPS}
    assert loaded.verdict == "healthy"
    md = render_markdown(loaded, lang="en")
    assert "do not pass yet" not in md and "already explains" not in md
    assert "Walked again" in md
    store.close()
