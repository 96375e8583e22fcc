"""A TUI whose database is busy keeps every step, says so on screen, and never claims "recorded".

Another connection holds the session database's write lock for a while (what a
long ``diagnose`` batch or a stuck tool does). The walk must go on, the App must
show "not recorded yet", the steps must wait in memory, and once the lock is
free everything must land; if it never is, the exit line says what was lost.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from tests.tui.support.engine import REQUEST, make_app, scenario_results
from vnetdoctor.knowledge.text import tr
from vnetdoctor.tui.launch import recording_outcome
from vnetdoctor.session.recorder import SessionRecorder
from vnetdoctor.tui.screens.walk import WalkScreen
from tests.tui.support.waiting import settle, wait_until

from vnetdoctor.store import SessionStore

SIZE = (100, 30)


def hold_write_lock(db: Path) -> sqlite3.Connection:
    """Another connection takes the write lock and keeps it until it is told to let go."""
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def step_rows(db: Path) -> int:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT count(*) FROM steps").fetchone()[0]
    finally:
        con.close()


def busy_recorder(db: Path) -> tuple[SessionStore, SessionRecorder]:
    # Short store-level waits so that the test sees the busy state within a fraction of a second.
    store = SessionStore(db, busy_timeout=0.05, write_attempts=1)
    return store, SessionRecorder(store, source="tui", retry_interval=0.05)


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_busy_database_shows_not_recorded_then_catches_up(tmp_path: Path, lang: str) -> None:
    db = tmp_path / "s.db"
    store, recorder = busy_recorder(db)
    holder = hold_write_lock(db)
    app, _ = make_app(lang=lang, recorder=recorder, store=store)
    expected = len(scenario_results())
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, WalkScreen) and app.screen.complete
            await wait_until(pilot, lambda: app.record_status.waiting
                             and app.record_status.pending_steps == expected + 1, what="the busy notice")
            notices = [n for n in app._notifications if n.title == tr("record.title", lang)]
            assert notices and notices[0].severity == "warning"
            shown = {tr("record.waiting", lang, count=n) for n in range(1, expected + 3)}
            assert notices[0].message in shown  # with the count at the moment it was shown
            assert step_rows(db) == 0  # nothing got in: all of it waits in memory
            holder.execute("COMMIT")  # the other writer is done
            await wait_until(pilot, lambda: app.record_status.complete and not app.record_status.waiting,
                             timeout=20, what="catching up")
            assert any(n.message == tr("record.caught_up", lang) for n in app._notifications)
    finally:
        holder.close()
    recorder.close()
    assert recording_outcome(recorder, lang) == tr("record.exit_done", lang, sid=recorder.session_id)
    rec = store.load(store.resolve("last"))
    assert [s.step for s in rec.steps] == [r.step for r in scenario_results()]
    assert rec.finished is not None and rec.diagnosis and rec.diagnosis["causes"]
    store.close()


def test_exit_says_not_recorded_when_the_lock_never_comes_free(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    store, recorder = busy_recorder(db)
    recorder.start(REQUEST)
    assert recorder.flush(5)  # the session itself gets in before the lock is taken
    holder = hold_write_lock(db)
    try:
        for result in scenario_results():
            recorder.step(result)
        status = recorder.close(timeout=0.3)  # the last, bounded attempt fails too
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert not status.complete and status.pending_steps == len(scenario_results())
    line = recording_outcome(recorder, "en")
    assert line is not None and "NOT fully recorded" in line and recorder.session_id in line
    assert f"steps {len(scenario_results())}," in line and "busy" in line
    assert "recorded (vnetdoctor replay" not in line
    assert "未完整记录" in (recording_outcome(recorder, "zh") or "")
    store.close()


def test_exit_says_nothing_was_recorded_when_the_session_never_started(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    store, recorder = busy_recorder(db)
    holder = hold_write_lock(db)
    try:
        recorder.start(REQUEST)
        recorder.step(scenario_results()[0])
        status = recorder.close(timeout=0.3)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert status.pending == 2 and recorder.session_id is None
    line = recording_outcome(recorder, "en") or ""
    assert line.startswith("vnetdoctor: session NOT recorded") and "steps not kept: 1 (" in line
    assert store.sessions() == []
    store.close()


class RefusingStore:
    """A session store whose disk fails under it after the session began: every step is refused
    (not busy: retrying cannot help), as an I/O error or a file turned read-only does."""

    def __init__(self, store: SessionStore) -> None:
        self.store = store

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.store, name)

    def record_step(self, session_id: str, step) -> None:  # type: ignore[no-untyped-def]
        raise sqlite3.OperationalError("disk I/O error")


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_store_that_cannot_write_says_so_on_screen_at_once(tmp_path: Path, lang: str) -> None:
    store = SessionStore(tmp_path / "s.db")
    recorder = SessionRecorder(RefusingStore(store), source="tui")
    app, _ = make_app(lang=lang, recorder=recorder, store=store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, WalkScreen) and app.screen.complete
        await wait_until(pilot, lambda: app.record_status.failed == len(scenario_results()),
                         what="every refused step counted")

        def errors() -> list:  # type: ignore[type-arg]
            return [n for n in app._notifications if n.title == tr("record.failed_title", lang)]

        await wait_until(pilot, lambda: bool(errors()), what="the error notice")
        assert len(errors()) == 1 and errors()[0].severity == "error"  # one notice for the burst
        assert "disk I/O error" in errors()[0].message
        assert not app.record_status.waiting  # refused, not busy: nothing is retried
    status = recorder.close()
    assert not status.complete and status.failed_steps == len(scenario_results())
    line = recording_outcome(recorder, lang) or ""
    assert recorder.session_id in line and "disk I/O error" in line
    assert line != tr("record.exit_done", lang, sid=recorder.session_id)  # never a false "recorded"
    store.close()


def test_exit_says_not_recorded_when_the_database_refuses_the_session(tmp_path: Path) -> None:
    class NoStart(RefusingStore):
        def start_session(self, request, *, source, scenario=None):  # type: ignore[no-untyped-def]
            raise sqlite3.OperationalError("attempt to write a readonly database")

    store = SessionStore(tmp_path / "s.db")
    recorder = SessionRecorder(NoStart(store), source="tui")
    recorder.start(REQUEST)
    status = recorder.close()
    assert not status.complete and recorder.session_id is None
    assert recording_outcome(recorder, "en") == tr(
        "record.exit_failed", "en", reason="start: OperationalError: attempt to write a readonly database")
    store.close()
