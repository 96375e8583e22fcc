"""Concurrent recorders never fail: writes take the lock up front, wait for it, and retry.

The failure this guards against: a transaction that read before it wrote
(deferred ``BEGIN``) could not upgrade to a write lock once another writer had
committed, and SQLite fails that at once with "database is locked" — the busy
timeout does not cover it. Six ``diagnose`` runs at once lost four sessions.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from tests.unit.support import store_fixtures as F

from vnetdoctor.probes.errors import UsageError
from vnetdoctor.store import SessionStore, StoreBusy

HERE = Path(__file__).resolve().parent
WRITER = HERE / "support" / "store_writer.py"


def run_writers(db: Path, n: int, rounds: int = 3) -> tuple[list[subprocess.CompletedProcess[str]], float]:
    """``n`` writer processes released at the same instant; their results and the wall time."""
    procs = [
        subprocess.Popen([sys.executable, str(WRITER), str(db), str(rounds)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(n)
    ]
    try:
        for p in procs:  # every one has opened the store before any starts writing
            assert p.stdout is not None and p.stdout.readline().strip() == "ready", p.stderr
        t0 = time.monotonic()
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        results = []
        for p in procs:
            out, err = p.communicate(timeout=120)
            results.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
        return results, time.monotonic() - t0
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def test_eight_recorder_processes_lose_nothing(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    results, _wall = run_writers(db, 8)
    failures = [r.stderr.strip() for r in results if r.returncode != 0]
    assert failures == []
    done = [json.loads(r.stdout.strip().splitlines()[-1]) for r in results]
    expected = len(F.steps(False)) * 3
    with SessionStore(db, readonly=True) as store:
        for item in done:
            rec = store.load(item["sid"])
            assert rec.finished is not None
            assert len(rec.steps) == expected == item["steps"]
            assert [e.detail["i"] for e in rec.events] == list(range(expected))
        assert len(store.sessions()) == 8


def test_a_write_waits_for_the_lock_instead_of_failing(tmp_path: Path) -> None:
    """Another connection holds the write lock for a while: the write waits, then lands."""
    db = tmp_path / "s.db"
    store = SessionStore(db)
    sid = store.start_session(F.request(), source="test")
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.4, holder.execute, args=("COMMIT",))
    release.start()
    t0 = time.monotonic()
    try:
        store.record_step(sid, F.steps(False)[0])
    finally:
        release.join()
        holder.close()
    assert time.monotonic() - t0 >= 0.35  # it really waited for the other writer
    assert len(store.load(sid).steps) == 1
    store.close()


def test_a_lock_held_past_every_attempt_is_store_busy_and_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    SessionStore(db).close()
    store = SessionStore(db, busy_timeout=0.05, write_attempts=3)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        t0 = time.monotonic()
        with pytest.raises(StoreBusy) as info:
            store.start_session(F.request(), source="test")
        assert time.monotonic() - t0 < 5  # bounded
        assert isinstance(info.value, UsageError) and "busy" in str(info.value)
        assert "\n" not in str(info.value)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store.sessions() == []  # nothing half-written
    sid = store.start_session(F.request(), source="test")  # and once the lock is free, it works
    assert store.resolve("last") == sid
    store.close()


def test_finish_is_one_transaction(tmp_path: Path) -> None:
    """A verdict that fails half-way leaves no verdict: all of it goes in, or none."""
    db = tmp_path / "s.db"
    store = SessionStore(db)
    sid = store.start_session(F.request(), source="test")
    for step in F.steps(False):
        store.record_step(sid, step)
    bad = F.diagnosis(False)
    object.__setattr__(bad, "causes", (*bad.causes, "not a finding"))  # fails half-way through
    with pytest.raises(AttributeError):
        store.finish_session(sid, bad)
    rec = store.load(sid)
    assert rec.finished is None and len(rec.steps) == len(F.steps(False))
    store.finish_session(sid, F.diagnosis(False))
    rec = store.load(sid)
    assert rec.finished is not None and len(rec.steps) == len(F.steps(False))
    store.close()


def _record(recorder, steps) -> None:  # type: ignore[no-untyped-def]
    """What the session's record sink does for a whole walk."""
    from vnetdoctor.knowledge.events import DiagnosisReady, StepFinished
    from vnetdoctor.session import Opened
    from vnetdoctor.session.sinks import RecordSink

    sink = RecordSink(recorder)
    sink(Opened(F.request()))
    for step in steps:
        sink(StepFinished(step))
    sink(DiagnosisReady(F.diagnosis(False)))


def test_diagnose_keeps_its_diagnosis_when_the_database_stays_busy(tmp_path: Path, capsys) -> None:
    """A busy database costs ``diagnose`` the record (said on stderr), never the diagnosis."""
    from vnetdoctor.commands.diagnose import close_recorder
    from vnetdoctor.session.recorder import SessionRecorder

    db = tmp_path / "s.db"
    SessionStore(db).close()
    store = SessionStore(db, busy_timeout=0.05, write_attempts=1)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        recorder = SessionRecorder(store, source="diagnose", retry_interval=0.05)
        _record(recorder, F.steps(False))
        assert close_recorder(recorder, timeout=0.3) is None
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    err = capsys.readouterr().err
    assert err.startswith("vnetdoctor diagnose: session not recorded:") and "busy" in err
    assert len(err.strip().splitlines()) == 1
    # The lock comes free before the end: the whole session lands, in order.
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    recorder = SessionRecorder(store, source="diagnose", retry_interval=0.05)
    try:
        _record(recorder, F.steps(False))
        time.sleep(0.2)
        assert not recorder.status().complete and recorder.session_id is None
    finally:
        holder.execute("COMMIT")
        holder.close()
    sid = close_recorder(recorder, timeout=5)
    assert sid is not None and len(store.load(sid).steps) == len(F.steps(False))
    assert store.load(sid).finished is not None
    assert capsys.readouterr().err == ""
    store.close()
