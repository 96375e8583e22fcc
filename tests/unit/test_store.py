"""The session store: round trip, crash safety, search, resolve, schema, bad files, the CLI list."""

from __future__ import annotations

import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from tests.unit.support import store_fixtures as F
from vnetdoctor.knowledge.model import Diagnosis, StepResult
from vnetdoctor.knowledge.path import PathPoint
from vnetdoctor.probes.rows import FirewallRow, LinkRow, PacketRow

from vnetdoctor import cli
from vnetdoctor.probes.errors import UsageError
from vnetdoctor.store import INTERRUPTED, RUNNING, SCHEMA_VERSION, SessionStore, default_db_path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


@pytest.fixture
def store(tmp_path):
    s = SessionStore(tmp_path / "sessions.db")
    try:
        yield s
    finally:
        s.close()


def _run_cli(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


# -- schema ---------------------------------------------------------------------------


def test_schema_version_wal_and_private_file(tmp_path):
    path = tmp_path / "sub" / "dir" / "s.db"
    SessionStore(path).close()
    assert path.exists()
    assert (path.stat().st_mode & 0o777) == 0o600
    con = sqlite3.connect(path)
    try:
        assert con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == (
            str(SCHEMA_VERSION),
        )
        assert con.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        con.close()
    assert {"meta", "sessions", "steps", "causes", "packets", "events"} <= tables
    # Re-opening an existing store keeps it as it is.
    with SessionStore(path) as again:
        assert again.schema_version() == SCHEMA_VERSION


def test_default_path_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_db_path() == tmp_path / "xdg" / "vnetdoctor" / "sessions.db"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert (
        default_db_path() == tmp_path / "home" / ".local" / "share" / "vnetdoctor" / "sessions.db"
    )
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    with SessionStore() as s:
        assert s.path == tmp_path / "xdg" / "vnetdoctor" / "sessions.db"
        assert s.path.exists()


# -- round trip -------------------------------------------------------------------------


def test_round_trip_rebuilds_the_same_objects(store):
    sid = F.record(store, fixed=False)
    rec = store.load(sid)
    assert rec.id == sid and rec.state == "finished" and rec.source == "diagnose"
    assert rec.scenario == "guest-firewall"
    assert rec.request == F.request()
    # Every StepResult equal to what was recorded: rows rebuilt as their frozen types,
    # frames put back at their place among the rows, exact durations kept.
    assert rec.steps == tuple(F.steps(False))
    fw = rec.steps[3].observations[0].rows
    assert all(isinstance(r, FirewallRow) for r in fw) and fw[2].handle == 7
    assert isinstance(rec.steps[0].observations[0].rows[2], LinkRow)
    frames = rec.packets()
    assert len(frames) == 5 and all(isinstance(p, PacketRow) for p in frames)
    assert [p.data_hex for p in frames] == [p.data_hex for p in F.frames()]
    # Verdict and events.
    assert rec.diagnosis["reachable"] is False
    assert [c["id"] for c in rec.diagnosis["causes"]] == ["firewall.guest_blocks"]
    assert rec.diagnosis["session_id"] == sid
    assert [e.kind for e in rec.events] == ["answer", "note"]
    assert rec.events[0].detail["answer"] == "yes"
    diag = rec.as_diagnosis()
    assert isinstance(diag, Diagnosis)
    assert (
        diag.causes == (F.finding(),)
        and diag.steps == rec.steps
        and diag.extra == {"path": (PathPoint("host", "vnet0"), PathPoint("host", "br0"))}
    )
    assert diag.to_json(sid)["steps"] == F.diagnosis(False).to_json(sid)["steps"]


def test_frames_live_in_their_own_table_not_in_the_step_json(store):
    sid = F.record(store)
    con = sqlite3.connect(store.path)
    try:
        rows = con.execute(
            "SELECT time, vantage, iface, hex, summary, tag, linktype FROM packets WHERE session_id=? ORDER BY time",
            (sid,),
        ).fetchall()
        step_json = con.execute(
            "SELECT json FROM steps WHERE session_id=? AND step='ping.capture'", (sid,)
        ).fetchone()[0]
        causes = con.execute(
            "SELECT cause, final FROM causes WHERE session_id=? ORDER BY final", (sid,)
        ).fetchall()
    finally:
        con.close()
    assert [r[3] for r in rows] == [p.data_hex for p in F.frames()]
    assert rows[2][5] == "icmp:6699:1" and rows[0][1] == F.HOST and rows[0][6] == 1
    assert "PacketRow" not in step_json and F.frames()[0].data_hex not in step_json
    assert causes == [("firewall.guest_blocks", 0), ("firewall.guest_blocks", 1)]


def test_finish_writes_the_verdict_and_nothing_else(store):
    """Steps reach the store through the session's record sink as they finish; finish back-fills none."""
    sid = store.start_session(F.request(), source="demo", scenario="x")
    store.record_step(sid, F.steps(False)[0])
    store.finish_session(sid, F.diagnosis(False))
    rec = store.load(sid)
    assert rec.steps == tuple(F.steps(False)[:1])  # the one recorded, not duplicated, none added
    assert rec.finished is not None and rec.as_diagnosis() is not None


def test_rerun_step_keeps_every_run_and_latest_wins(store):
    sid = store.start_session(F.request(), source="tui")
    first = F.steps(False)[3]
    again = StepResult(first.step, first.layer, first.title, "pass", "fixed now", 3.0)
    store.record_step(sid, first)
    store.record_step(sid, again)
    rec = store.load(sid)
    assert [s.status for s in rec.steps] == ["fail", "pass"]
    assert [s.status for s in rec.latest_steps()] == ["pass"]


def test_recording_from_another_thread(store):
    sid = store.start_session(F.request(), source="tui")
    errors = []

    def work():
        try:
            for s in F.steps(False):
                store.record_step(sid, s)
        except Exception as exc:  # noqa: BLE001 - the assertion below reports it
            errors.append(exc)

    t = threading.Thread(target=work)
    t.start()
    t.join(10)
    assert not errors
    assert len(store.load(sid).steps) == len(F.steps(False))


def test_unknown_session_is_a_usage_error(store):
    with pytest.raises(UsageError):
        store.record_step("20000101-000000-0000", F.steps(False)[0])
    with pytest.raises(UsageError):
        store.load("nope")


# -- states -----------------------------------------------------------------------------


def test_unfinished_session_is_running_while_its_process_lives(store):
    sid = F.record(store, finish=False)
    (summary,) = store.sessions()
    assert summary.state == RUNNING and summary.result == "running"
    # The same record written by a process that is gone: interrupted, with what it found.
    con = sqlite3.connect(store.path)
    con.execute("UPDATE sessions SET proc_start='1' WHERE id=?", (sid,))
    con.commit()
    con.close()
    (summary,) = store.sessions()
    assert summary.state == INTERRUPTED
    assert summary.causes == ("firewall.guest_blocks",)
    assert summary.steps == len(F.steps(False))
    rec = store.load(sid)
    assert rec.diagnosis is None and rec.state == INTERRUPTED and len(rec.steps) == 7


_CRASH_SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {here!r})
    from tests.unit.support import store_fixtures as F
    from vnetdoctor.store import SessionStore
    st = SessionStore({db!r})
    sid = st.start_session(F.request(), source="diagnose", scenario="crash-test")
    for step in F.steps(False)[:3]:
        st.record_step(sid, step)
    print(sid, flush=True)
    sys.stdin.read()  # wait to be killed
    """
)


def _readline(proc: subprocess.Popen, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    buf = b""
    while not buf.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or proc.poll() is not None:
            break
        ready, _, _ = select.select([proc.stdout], [], [], left)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 256)
            if not chunk:
                break
            buf += chunk
    return buf.decode().strip()


def test_sigkill_after_three_steps_leaves_them_and_lists_interrupted(tmp_path, capsys):
    db = tmp_path / "crash.db"
    script = _CRASH_SCRIPT.format(here=str(ROOT), db=str(db))
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        sid = _readline(proc, 30)
        assert sid, (
            proc.stderr.read().decode() if proc.poll() is not None else "no session id printed"
        )
        code, out, _ = _run_cli(["sessions", "--db", str(db), "--json"], capsys)
        assert code == 0 and json.loads(out)[0]["state"] == "running"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stdin.close()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    with SessionStore(db, create=False) as st:
        rec = st.load(sid)
        assert [s.step for s in rec.steps] == [s.step for s in F.steps(False)[:3]]
        assert rec.steps == tuple(F.steps(False)[:3])
        assert rec.packets() and len(rec.packets()) == 5  # the frames of step 3 survived too
        assert st.sessions()[0].state == INTERRUPTED
    code, out, _ = _run_cli(["sessions", "--db", str(db)], capsys)
    assert code == 0
    line = next(l for l in out.splitlines() if l.startswith(sid))
    assert line.rstrip().endswith("interrupted")


# -- listing, search, resolve ------------------------------------------------------------


def _three(store, monkeypatch):
    """Three sessions with distinct start times (newest last)."""
    clock = [1_790_000_000.0]

    def fake_time():
        clock[0] += 61.0
        return clock[0]

    monkeypatch.setattr("vnetdoctor.store.recording.time.time", fake_time)
    a = F.record(store, fixed=False, scenario="lab-fw-icmp")
    b = F.record(store, fixed=True, scenario=None)
    c = store.start_session(
        F.Request(
            target="203.0.113.50",
            host=F.parse_vantage("local"),
            guest=F.parse_vantage("libvirt:web01"),
        ),
        source="tui",
    )
    store.record_step(
        c,
        StepResult(
            "dns.guest", "application", "Names resolve", "fail", "resolver 192.0.2.53 times out"
        ),
    )
    return a, b, c


def test_sessions_newest_first_and_search(store, monkeypatch):
    a, b, c = _three(store, monkeypatch)
    assert [s.id for s in store.sessions()] == [c, b, a]
    assert [s.id for s in store.sessions(limit=2)] == [c, b]
    ids = lambda q: {s.id for s in store.sessions(search=q)}
    assert ids("firewall.guest_blocks") == {a}  # a verdict's cause id
    assert ids("guest_blocks") == {a}
    assert ids("203.0.113.50") == {c}  # target
    assert ids("198.18.0") == {a, b}  # a fragment of an address
    assert ids("web01") == {c}  # a vantage
    assert ids("vndt-gu") == {a, b}
    assert ids("lab-fw-icmp") == {a}  # scenario
    assert ids("guest firewall") == {a, b}  # a step title
    assert ids("times out") == {c}  # words of a step note (FTS)
    assert ids("requests and replies") == {b}
    assert ids("resolv") == {c}  # a word prefix (FTS)
    assert ids('"; DROP TABLE x') == set()  # FTS syntax is quoted away
    assert ids("nothing-like-this") == set()
    summary = {s.id: s for s in store.sessions()}
    assert summary[a].result == "firewall.guest_blocks"
    assert summary[b].result == "reachable" and summary[b].reachable is True
    assert summary[c].state == RUNNING


def test_resolve(store, monkeypatch):
    with pytest.raises(UsageError, match="no sessions recorded"):
        store.resolve("last")
    a, b, c = _three(store, monkeypatch)
    assert store.resolve(None) == c
    assert store.resolve("last") == c
    assert store.resolve("last~1") == b
    assert store.resolve("last~2") == a
    with pytest.raises(UsageError, match="fewer than 4"):
        store.resolve("last~3")
    assert store.resolve(a) == a
    assert store.resolve(a[:-2]) == a
    with pytest.raises(UsageError, match="ambiguous"):
        store.resolve(a[:9])  # the same day: all three
    with pytest.raises(UsageError, match="no session"):
        store.resolve("19991231")
    with pytest.raises(UsageError, match="no session"):
        store.resolve("%")


def test_sessions_command_fits_80_columns(store, monkeypatch, capsys):
    from vnetdoctor.commands import sessions as sessions_command

    _three(store, monkeypatch)
    monkeypatch.undo()
    code, out, err = _run_cli(["sessions", "--db", str(store.path)], capsys)
    assert code == 0 and err == "" and "…" not in out  # a pipe (capsys) gets every character
    monkeypatch.setattr(sessions_command, "output_width", lambda default=80: 80)  # an 80-column terminal
    code, out, err = _run_cli(["sessions", "--db", str(store.path)], capsys)
    assert code == 0 and err == ""
    lines = out.splitlines()
    # 80 columns: the scenario and the age (the id carries date and time) give way to the path.
    assert lines[0].split() == ["ID", "TARGET", "HOST→GUEST", "RESULT"]
    assert len(lines) == 4
    assert "vndt-host→vndt-guest" in lines[3]  # the path is whole
    assert all(len(l) <= 80 for l in lines)
    assert "firewall.guest_blocks" in lines[3] and "reachable" in lines[2] and "running" in lines[1]
    assert "198.18.0.11" in lines[3] and "203.0.113.50" in lines[1]  # a target is never cut
    code, out, _ = _run_cli(
        ["sessions", "--db", str(store.path), "--search", "web01", "--json"], capsys
    )
    data = json.loads(out)
    assert [d["guest"] for d in data] == ["libvirt:web01"] and data[0]["state"] == "running"
    code, out, _ = _run_cli(["sessions", "--db", str(store.path), "--search", "zzz"], capsys)
    assert code == 0 and "no session matches" in out


def test_sessions_command_without_database(tmp_path, capsys):
    code, out, _ = _run_cli(["sessions", "--db", str(tmp_path / "none.db")], capsys)
    assert code == 0 and "no sessions recorded yet" in out
    assert not (tmp_path / "none.db").exists()  # listing never creates a database
    code, out, _ = _run_cli(["sessions", "--db", str(tmp_path / "none.db"), "--json"], capsys)
    assert json.loads(out) == []


# -- bad files: one line, exit 2 ------------------------------------------------------------


@pytest.mark.parametrize("command", [["sessions"], ["export", "last"], ["diff", "last~1", "last"]])
def test_corrupt_database_is_one_line_exit_2(tmp_path, capsys, command):
    bad = tmp_path / "corrupt.db"
    bad.write_bytes(b"this is not an SQLite database, just bytes\n" * 200)
    code, out, err = _run_cli([*command, "--db", str(bad)], capsys)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert str(bad) in err and "Traceback" not in err


def test_other_bad_databases(tmp_path):
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(UsageError, match="is not a session database"):
        SessionStore(other)
    newer = tmp_path / "newer.db"
    SessionStore(newer).close()
    con = sqlite3.connect(newer)
    con.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    con.commit()
    con.close()
    with pytest.raises(UsageError, match="schema 99, newer"):
        SessionStore(newer)
    with pytest.raises(UsageError, match="directory"):
        SessionStore(tmp_path)
    with pytest.raises(UsageError, match="no session database"):
        SessionStore(tmp_path / "missing.db", create=False)


def test_store_and_commands_never_import_textual():
    code = (
        "import sys\n"
        "import vnetdoctor.store, vnetdoctor.records, vnetdoctor.redact, vnetdoctor.probes.frame_layout\n"
        "import vnetdoctor.report, vnetdoctor.probes.pcap, vnetdoctor.sessiondiff\n"
        "import vnetdoctor.commands.sessions, vnetdoctor.commands.export, vnetdoctor.commands.diff\n"
        "bad = sorted(m for m in ('textual', 'scapy', 'libvirt') if m in sys.modules)\n"
        "print(','.join(bad))\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == ""
