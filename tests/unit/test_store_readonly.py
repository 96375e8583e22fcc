"""Reading never changes a byte: ``sessions``, ``export``, ``replay`` and ``diff`` open read-only.

They used to switch a rollback-journal file to WAL (also one they then refused
as too new), write a schema into an empty file, and could not read a store in a
directory they cannot write. Each case here hashes the files before and after
every read command.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from tests.unit.support import store_fixtures as F

from vnetdoctor import cli
from vnetdoctor.store import SessionStore

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

READ_COMMANDS = [
    ["sessions"],
    ["sessions", "--json", "--search", "firewall"],
    ["export", "last", "--format", "json"],
    ["export", "last~1", "--format", "md"],
    ["diff", "last~1", "last"],
    ["replay", "last"],  # opens, resolves and loads, then stops: no terminal here
]

# A writer killed with its WAL not yet checkpointed: the -wal holds sessions the main file lacks.
_KILLED_WRITER = """
import os, signal, sys
sys.path.insert(0, {here!r})
from tests.unit.support import store_fixtures as F
from vnetdoctor.store import SessionStore
store = SessionStore({db!r})
F.record(store, fixed=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def digest(db: Path) -> dict[str, str]:
    """sha256 of the database and of its -wal (when there is one)."""
    out = {}
    for name in ("", "-wal"):
        p = Path(f"{db}{name}")
        if p.exists():
            out[p.name] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def journal_byte(db: Path) -> int:
    """Header byte 18: 1 = rollback journal, 2 = WAL (what a mode switch would change)."""
    return db.read_bytes()[18]


def wal_db(path: Path, *, live_wal: bool) -> Path:
    with SessionStore(path) as store:
        F.record(store, fixed=False)
    if live_wal:
        code = _KILLED_WRITER.format(here=str(ROOT), db=str(path))
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60, check=False)
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        assert Path(f"{path}-wal").stat().st_size > 0
    else:
        with SessionStore(path) as store:  # the last close checkpoints and removes the -wal
            F.record(store, fixed=True)
        assert not Path(f"{path}-wal").exists()
    return path


def rollback_db(path: Path) -> Path:
    wal_db(path, live_wal=False)
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode=DELETE").fetchone()[0] == "delete"
    con.close()
    assert journal_byte(path) == 1
    return path


def newer_db(path: Path) -> Path:
    rollback_db(path)
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    con.commit()
    con.close()
    return path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("live_wal", [False, True], ids=["wal-checkpointed", "wal-live"])
def test_read_commands_leave_a_wal_store_unchanged(tmp_path, capsys, live_wal) -> None:
    db = wal_db(tmp_path / "s.db", live_wal=live_wal)
    for argv in READ_COMMANDS:
        before = digest(db)
        code, out, err = run([*argv, "--db", str(db)], capsys)
        if argv[0] == "replay":
            assert code == 2 and "needs a terminal" in err
        else:
            assert code == 0, (argv, err)
            assert out
        after = digest(db)
        assert after.pop(db.name) == before.pop(db.name), argv
        if before:  # a live -wal is read through, never written or checkpointed
            assert after == before, argv
        else:  # SQLite may leave an empty -wal beside a WAL file it read: no data, private
            wal = Path(f"{db}-wal")
            assert not wal.exists() or (wal.stat().st_size == 0 and wal.stat().st_mode & 0o077 == 0)
    assert journal_byte(db) == 2


def test_read_commands_never_switch_a_rollback_journal_store_to_wal(tmp_path, capsys) -> None:
    db = rollback_db(tmp_path / "s.db")
    for argv in READ_COMMANDS:
        before = digest(db)
        code, _, err = run([*argv, "--db", str(db)], capsys)
        assert code in (0, 2) and "Traceback" not in err
        assert digest(db) == before, argv
        assert journal_byte(db) == 1 and not Path(f"{db}-wal").exists(), argv


def test_a_newer_schema_is_refused_in_one_line_and_left_alone(tmp_path, capsys) -> None:
    db = newer_db(tmp_path / "s.db")
    before = digest(db)
    for argv in READ_COMMANDS:
        code, out, err = run([*argv, "--db", str(db)], capsys)
        assert code == 2 and out == "", argv
        assert len(err.strip().splitlines()) == 1 and "schema 99, newer" in err, argv
        assert digest(db) == before and journal_byte(db) == 1, argv


def test_a_recording_command_refuses_a_newer_schema_before_changing_it(tmp_path) -> None:
    db = newer_db(tmp_path / "s.db")
    before = digest(db)
    with pytest.raises(Exception, match="schema 99, newer"):
        SessionStore(db)
    assert digest(db) == before and journal_byte(db) == 1


def test_an_empty_file_is_not_a_session_database_and_stays_empty(tmp_path, capsys) -> None:
    db = tmp_path / "empty.db"
    db.write_bytes(b"")
    for argv in READ_COMMANDS:
        code, out, err = run([*argv, "--db", str(db)], capsys)
        assert code == 2 and out == "", argv
        assert "not a session database" in err and len(err.strip().splitlines()) == 1, argv
        assert db.read_bytes() == b"", argv
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]


def _as_nobody(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent", "LANG": "C.UTF-8"}
    return subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
         sys.executable, "-m", "vnetdoctor", *argv],
        capture_output=True, text=True, timeout=60, env=env, cwd="/", check=False,
    )


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                    reason="needs root to hand the files to an unprivileged user (setpriv)")
@pytest.mark.parametrize("live_wal", [False, True], ids=["wal-checkpointed", "wal-live"])
def test_a_store_in_a_read_only_directory_is_readable(live_wal) -> None:
    """Root ignores permissions, so the reader is uid 65534 and the directory is 0555."""
    top = Path(tempfile.mkdtemp(prefix="vnd-ro-"))  # pytest's tmp_path is 0700: nobody can enter
    os.chmod(top, 0o755)
    shared = top / "shared"
    shared.mkdir()
    db = wal_db(shared / "s.db", live_wal=live_wal)
    for p in shared.iterdir():
        os.chown(p, 65534, 65534)
    os.chown(shared, 65534, 65534)
    os.chmod(shared, 0o555)
    try:
        before = digest(db)
        names = sorted(p.name for p in shared.iterdir())
        listed = _as_nobody("sessions", "--json", "--db", str(db))
        assert listed.returncode == 0, listed.stderr
        assert '"state": "finished"' in listed.stdout
        exported = _as_nobody("export", "last", "--format", "json", "--db", str(db))
        assert exported.returncode == 0, exported.stderr
        if live_wal:  # the session only the -wal holds is seen too
            assert listed.stdout.count('"id"') == 2
        assert digest(db) == before
        assert sorted(p.name for p in shared.iterdir()) == names
    finally:
        os.chmod(shared, 0o755)
        shutil.rmtree(top)


def test_a_read_only_store_refuses_to_write(tmp_path) -> None:
    db = wal_db(tmp_path / "s.db", live_wal=False)
    with SessionStore(db, readonly=True) as store, pytest.raises(Exception, match="read-only"):
        store.start_session(F.request(), source="test")


def test_sessions_without_a_database_creates_nothing(tmp_path, capsys) -> None:
    code, out, _ = run(["sessions", "--db", str(tmp_path / "none" / "s.db")], capsys)
    assert code == 0 and "no sessions recorded yet" in out
    assert list(tmp_path.iterdir()) == []
