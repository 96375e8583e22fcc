"""The headless session core: one Session fanning every event out to sinks, recording once, replay from a record."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from tests.support.fake_engine import FakeEngine
from tests.unit.support import store_fixtures as F

from vnetdoctor.knowledge.events import DiagnosisReady, StepFinished, StepStarted
from vnetdoctor.knowledge.model import Diagnosis, Fix, Question, StepResult
from vnetdoctor.probes.base import Observation
from vnetdoctor.probes.vantage import LOCAL, Vantage
from vnetdoctor.session import Noted, Observed, Opened, Session
from vnetdoctor.session.recorder import SessionRecorder
from vnetdoctor.session.replay import replay_session
from vnetdoctor.session.sinks import OBSERVATION, ProgressLine, RecordSink
from vnetdoctor.store import SessionStore


def _links_now(probe_id: str, vantage: Vantage) -> Observation:
    """What a link probe sees now, under the probe id and vantage it was asked with."""
    obs = F.links(True)
    return Observation(probe_id, str(vantage), obs.status, obs.rows, obs.raw)


def factory(asks: str | None = None):  # type: ignore[no-untyped-def]
    """The one fake engine over F.steps(False), with an observer; asks one question in the step ``asks``."""
    question = Question(asks, "Is the LED on?", ("yes", "no", "unknown")) if asks else None
    return lambda request, ask, on_event: FakeEngine(request, F.steps(False), ask=ask, on_event=on_event,
                                                     question=question, observer=_links_now)


def test_every_sink_gets_every_event_in_order_and_the_diagnosis_once() -> None:
    a: list[object] = []
    b: list[object] = []
    session = Session(F.request(), factory(), sinks=[a.append, b.append])
    session.plan()
    session.run()
    assert a == b
    assert isinstance(a[0], Opened)
    assert [type(e) for e in a].count(DiagnosisReady) == 1  # not twice (engine + front end)
    assert [e.result.step for e in a if isinstance(e, StepFinished)] == [s.step for s in F.steps(False)]


def test_a_step_run_that_completes_the_walk_delivers_the_verdict_once() -> None:
    events: list[object] = []
    session = Session(F.request(), factory(), sinks=[events.append])
    steps = session.plan()
    for step in steps[:-1]:
        session.run_step(step.id)
    assert not any(isinstance(e, DiagnosisReady) for e in events) and not session.complete
    session.run_step(steps[-1].id)
    assert [type(e) for e in events].count(DiagnosisReady) == 1 and session.complete


def test_the_answer_is_a_noted_event_after_the_operator_gave_it() -> None:
    events: list[object] = []
    first = F.steps(False)[0].step
    session = Session(F.request(), factory(asks=first), sinks=[events.append], ask=lambda q: "yes")
    session.plan()
    session.run_step(first)
    noted = [e for e in events if isinstance(e, Noted)]
    assert [(n.kind, n.detail["answer"]) for n in noted] == [("answer", "yes")]
    # Recorded before the step it belongs to finished.
    assert events.index(noted[0]) < next(i for i, e in enumerate(events) if isinstance(e, StepFinished))


def test_guidance_is_refused_never_run_and_recorded() -> None:
    events: list[object] = []
    session = Session(F.request(), factory(), sinks=[events.append])
    guidance = Fix.guidance(("the switch port",), risk="low", note="check the cable")
    assert session.refusal(guidance) is not None
    outcome = session.apply_fix(guidance, "physical.link", 5.0)
    assert outcome.refused and not outcome.ok
    (noted,) = [e for e in events if isinstance(e, Noted)]
    assert noted.kind == "fix_applied" and noted.detail["returncode"] == 126
    assert not any(isinstance(e, StepStarted) for e in events)  # a refused fix re-runs nothing


def test_the_cli_and_the_tui_record_through_the_same_sink(tmp_path: Path) -> None:
    """Steps, answers, observations and the verdict land once each, in order, with no back-filling."""
    store = SessionStore(tmp_path / "s.db")
    recorder = SessionRecorder(store, source="diagnose")
    first = F.steps(False)[0].step
    session = Session(F.request(), factory(asks=first), sinks=[RecordSink(recorder)], ask=lambda q: "no")
    session.plan()
    session.run()
    seen = session.observe("link.list", LOCAL)
    assert recorder.close().complete and not recorder.errors
    rec = store.load(recorder.session_id or "")
    assert [s.step for s in rec.steps] == [s.step for s in F.steps(False)]
    assert rec.finished is not None
    assert [e.kind for e in rec.events] == ["answer", OBSERVATION]
    # Replay is a Session built from the record: the observation comes back through observe().
    replay = replay_session(rec)
    served = replay.observe("link.list", Vantage("local"))  # the same key, however it is spelt
    assert served.to_dict() == seen.to_dict()
    missing = replay.observe("route.list", LOCAL)
    assert missing.status == "skipped" and "not in the recording" in missing.reason
    replayed: list[object] = []
    replay.add_sink(replayed.append)
    replay.plan()
    assert replay.run().verdict == rec.verdict
    assert [e.result.step for e in replayed if isinstance(e, StepFinished)] == [s.step for s in rec.latest_steps()]
    store.close()


def test_an_observation_outside_a_step_is_an_observed_event() -> None:
    events: list[object] = []
    session = Session(F.request(), factory(), sinks=[events.append])
    obs = session.observe("link.list", LOCAL, refresh=True)
    assert events == [Observed(obs)] and session.engine.observed == [("link.list", "local")]


def test_the_progress_line_redraws_in_place_and_clears_itself() -> None:
    out = io.StringIO()

    def fmt(done: int, total: int, seconds: float, running: str | None) -> str:
        return f"{done}/{total} · {seconds:.1f} s" + (f" · running: {running}" if running else "")

    line = ProgressLine(2, {"a": "Routing table"}, fmt, stream=out)
    line(StepStarted("a"))
    line(StepFinished(StepResult("a", "network", "Routing table", "pass")))
    line(DiagnosisReady(Diagnosis(F.request(), True)))
    text = out.getvalue()
    assert re.search(r"\r0/2 · \d+\.\d s · running: Routing table", text)
    assert re.search(r"\r1/2 · \d+\.\d s", text)
    assert "\n" not in text and text.endswith("\r")  # nothing left on the terminal for the report


def test_after_close_no_sink_hears_of_the_engine() -> None:
    """The front end went away (quit, a signal): a step the engine still finishes is not recorded."""
    events: list[object] = []
    session = Session(F.request(), factory(), sinks=[events.append])
    session.plan()
    session.run_step(F.steps(False)[0].step)
    heard = len(events)
    session.close()
    session.run_step(F.steps(False)[1].step)
    session.note("error", {"error": "late"})
    assert len(events) == heard


def test_a_table_polled_without_change_is_recorded_once(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s.db")
    recorder = SessionRecorder(store, source="tui")
    session = Session(F.request(), factory(), sinks=[RecordSink(recorder)])
    session.open()
    for _ in range(5):  # auto-refresh: the same rows every poll
        session.observe("link.list", LOCAL, refresh=True)
    assert recorder.close().complete
    rec = store.load(recorder.session_id or "")
    assert [e.kind for e in rec.events] == [OBSERVATION]
    store.close()


def test_close_waits_for_an_event_being_delivered_then_cuts_clean() -> None:
    """A signal closes the session while the engine's thread is inside a sink: that event lands
    whole, and nothing after it (the verdict) reaches any sink."""
    import threading

    first = F.steps(False)[0].step
    in_sink, release = threading.Event(), threading.Event()
    events: list[object] = []

    def slow_sink(event: object) -> None:
        if isinstance(event, StepFinished) and event.result.step == first:
            in_sink.set()
            release.wait(10)
        events.append(event)

    session = Session(F.request(), factory(), sinks=[slow_sink])
    session.plan()
    walk = threading.Thread(target=session.run)
    walk.start()
    assert in_sink.wait(10)
    closer = threading.Thread(target=session.close, kwargs={"wait": 30.0})
    closer.start()
    closer.join(0.2)
    assert closer.is_alive(), "close() returned while an event was half-delivered"
    release.set()
    closer.join(10)
    walk.join(10)
    assert session.closed
    assert isinstance(events[-1], StepFinished) and events[-1].result.step == first
    assert not any(isinstance(e, DiagnosisReady) for e in events)


def test_the_signal_guard_closes_the_session_before_anything_unwinds() -> None:
    import os
    import signal
    import time

    import pytest

    from vnetdoctor.interrupt import Interrupted, SignalGuard

    events: list[object] = []
    session = Session(F.request(), factory(), sinks=[events.append])
    session.plan()
    order: list[str] = []
    with pytest.raises(Interrupted), SignalGuard() as guard:
        guard.on_signal("close the session", lambda: (session.close(), order.append("closed")))
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(500):  # the handler runs at the next bytecode boundary
                time.sleep(0.01)
        finally:
            order.append("unwound")
    assert order == ["closed", "unwound"] and session.closed
    session.run()  # an engine thread that goes on regardless: no sink hears of it
    assert events == []


def test_a_signal_handler_can_close_the_session_while_its_own_thread_holds_the_locks() -> None:
    """The handler runs in the main thread between two bytecodes, possibly inside the session's
    own critical sections: closing from there must not deadlock on them."""
    import threading

    events: list[object] = []
    session = Session(F.request(), factory(), sinks=[events.append])

    def handler_inside_the_locks() -> None:
        with session._lock, session._delivering:  # where the main thread may be when it lands
            session.close(wait=5.0)

    thread = threading.Thread(target=handler_inside_the_locks, daemon=True)  # a deadlock fails, not hangs
    thread.start()
    thread.join(20)
    assert not thread.is_alive(), "close() deadlocked on a lock its own thread held"
    assert session.closed
    session.note("error", {"error": "after"})
    assert events == []


def test_undo_runs_the_undo_argv_last_step_first_and_is_recorded(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Issue 13.3: an applied change is undone through the same apply path, recorded as fix_undone."""
    from vnetdoctor.knowledge.apply import FixRefused, undo_of

    a, b = tmp_path / "a", tmp_path / "b"
    fix = Fix.sequence([Fix.of(("touch", str(a)), ("rm", str(a)), risk="low", where="local"),
                        Fix.of(("touch", str(b)), ("rm", str(b)), risk="medium", where="local")])
    undo = undo_of(fix)
    assert [undo.argv, *(s.argv for s in undo.then)] == [("rm", str(b)), ("rm", str(a))]
    # No undo of its own: the original command named things as they were (tests/unit/test_undo_handles.py).
    assert undo.undo_argv == () and all(not s.undo_argv for s in undo.then) and undo.runnable
    with pytest.raises(FixRefused):
        undo_of(Fix.of(("true",), (), risk="low", where="local"))
    seen: list = []
    session = Session(F.request(), factory(), sinks=[seen.append])
    session.plan()
    session.run_step("firewall.guest")  # the step that names the cause the fix is for
    outcome = session.apply_fix(fix, None, 5.0)
    assert session.before is not None and session.before.causes  # the verdict before the first change
    assert outcome.ok and a.exists() and b.exists()
    (change,) = session.changes
    back = session.undo_fix(change, 5.0)
    assert back.ok and not a.exists() and not b.exists() and change.undone is back
    noted = [e for e in seen if isinstance(e, Noted)]
    assert [n.kind for n in noted] == ["fix_applied", "fix_undone"]
    assert noted[1].detail["command"] == fix.command and noted[1].detail["undo"] == f"rm {b}\nrm {a}"
