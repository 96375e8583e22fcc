"""After a re-run changes the outcome (a fix worked), the session walks the other steps again.

Found walking the firewall lab in the TUI: after `f` the verdict turned healthy but the
MTU step still said "small pings do not pass yet" and TCP/DNS "not needed:
firewall.guest_blocks already explains the failure", in replay and export too.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from tests.support.fake_engine import FakeEngine
from tests.unit.support import store_fixtures as F

from vnetdoctor.knowledge.events import DiagnosisReady, StepFinished
from vnetdoctor.knowledge.model import Finding, Request, StepResult
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


def _seen(world: World, step: str) -> StepResult:
    """What ``step`` observes in ``world`` as it is when the step runs."""
    layer = dict(STEPS)[step]
    if world.broken and step == "firewall":
        return StepResult(step, layer, step, "fail", "drops echo",
                          findings=(Finding(CAUSE, layer, "the guest drops pings"),))
    if world.broken and step == "mtu":
        return StepResult(step, layer, step, "skip", "small pings do not pass yet")
    if world.broken and step == "tcp":
        return StepResult(step, layer, step, "skip", f"not needed: {CAUSE} already explains the failure")
    if world.broken and step == "symptom.ping":
        return StepResult(step, layer, step, "fail", "no reply")
    return StepResult(step, layer, step, "pass", "fine now")


def _session(world: World, sinks: list[Any]) -> tuple[Session, list[FakeEngine]]:
    """The one fake engine as the real one behaves here: each step sees the world as it is when
    it runs, a step's (re-)run takes the symptom afresh first, and it can rewalk."""
    engines: list[FakeEngine] = []

    def factory(request: Request, ask: Any, on_event: Any) -> FakeEngine:
        engines.append(FakeEngine(request, [_seen(world, step) for step, _ in STEPS], ask=ask, on_event=on_event,
                                  result_of=partial(_seen, world), symptom_first=True, rewalks=True))
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
