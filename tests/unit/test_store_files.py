"""Session files are private from the first byte, also after a kill half-way through creating them.

Sessions name hosts, addresses and firewall rules, and vnetdoctor runs as root:
the database, its ``-wal`` and ``-shm`` and the directories made for them must
never be readable by another user, not even for the instant between SQLite
creating a file and a ``chmod`` (a process killed in that instant used to leave
the store 0644 for good). Under sudo the store must not leave root-owned
directories in the invoking user's home.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.unit.support import store_fixtures as F

from vnetdoctor.store import SessionStore, default_db_path
from vnetdoctor.store import files as store_mod

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]  # subprocesses import tests.unit.support from here

# Child for the kill test: umask 0 (SQLite alone would then create 0644 files), every
# import done before "ready", then it creates the store and records until killed.
_CREATOR = """
import os, sys
sys.path.insert(0, {here!r})
os.umask(0)
import sqlite_utils
from tests.unit.support import store_fixtures as F
from vnetdoctor.store import SessionStore
print("ready", flush=True)
sys.stdin.readline()
store = SessionStore({db!r})
sid = store.start_session(F.request(), source="kill-test")
while True:
    for step in F.steps(False):
        store.record_step(sid, step)
"""


def modes(root: Path) -> dict[str, int]:
    """Permission bits of every file and directory under ``root`` (``root`` itself excluded)."""
    return {
        str(p.relative_to(root)): stat.S_IMODE(p.lstat().st_mode)
        for p in sorted(root.rglob("*"))
    }


def test_first_session_files_are_0600_and_dirs_0700_whatever_the_umask(tmp_path: Path) -> None:
    db = tmp_path / "a" / "b" / "sessions.db"
    old = os.umask(0)
    try:
        store = SessionStore(db)
        sid = store.start_session(F.request(), source="test")
        store.record_step(sid, F.steps(False)[0])
        # While the first session is open: the WAL and its index exist, private.
        seen = modes(tmp_path)
        store.close()
    finally:
        os.umask(old)
    assert {"a/b/sessions.db-wal", "a/b/sessions.db-shm"} <= set(seen)
    assert seen == {
        name: (0o700 if name in ("a", "a/b") else 0o600) for name in seen
    }


def test_a_restrictive_umask_still_gives_a_usable_private_directory(tmp_path: Path) -> None:
    old = os.umask(0o277)
    try:
        with SessionStore(tmp_path / "d" / "s.db") as store:
            store.start_session(F.request(), source="test")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "d" / "s.db").stat().st_mode) == 0o600


def test_a_store_left_0644_by_an_older_version_is_made_private(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    SessionStore(db).close()
    os.chmod(db, 0o644)
    with SessionStore(db) as store:
        store.start_session(F.request(), source="test")
        assert stat.S_IMODE(db.stat().st_mode) == 0o600
        assert stat.S_IMODE(Path(f"{db}-wal").stat().st_mode) == 0o600


def test_a_dangling_symlink_gets_a_private_target(tmp_path: Path) -> None:
    target = tmp_path / "real" / "s.db"
    link = tmp_path / "link.db"
    link.symlink_to(target)
    with SessionStore(link) as store:
        store.start_session(F.request(), source="test")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700


def test_killed_at_any_moment_while_creating_leaves_only_private_files(tmp_path: Path) -> None:
    """SIGKILL creators at delays spread over the creation (0–60 ms after they start it).

    The delays are the experiment (where in the creation the kill lands), not a
    wait for something to happen. Afterwards every file is 0600, every directory
    made 0700, and the store opens and records.
    """
    delays = [i * 0.0015 for i in range(40)]
    runs: list[tuple[Path, float]] = [(tmp_path / f"run{i}", d) for i, d in enumerate(delays)]
    outcomes: set[str] = set()
    for batch in range(0, len(runs), 8):
        procs = []
        for root, delay in runs[batch : batch + 8]:
            db = root / "data" / "sessions.db"
            code = _CREATOR.format(here=str(ROOT), db=str(db))
            p = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            procs.append((p, root, delay))
        for p, _, _ in procs:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        for p, _, delay in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
            time.sleep(delay)
            p.kill()
        for p, _, _ in procs:
            p.wait(timeout=30)
            for stream in (p.stdin, p.stdout, p.stderr):
                if stream is not None:
                    stream.close()
    for root, _ in runs:
        found = modes(root) if root.exists() else {}
        for name, mode in found.items():
            expected = 0o700 if (root / name).is_dir() else 0o600
            assert mode == expected, (root.name, name, oct(mode))
        db = root / "data" / "sessions.db"
        outcomes.add("file" if db.exists() and db.stat().st_size else "dir" if found else "none")
        if not db.parent.exists():
            continue
        with SessionStore(db) as store:  # whatever the kill left, the store opens and records
            sid = store.start_session(F.request(), source="after-kill")
            store.record_step(sid, F.steps(False)[0])
            assert store.load(sid).steps
        for name, mode in modes(root).items():
            assert mode == (0o700 if (root / name).is_dir() else 0o600), (root.name, name)
    assert "file" in outcomes  # some kills landed after the file was there (the delays cover it)


# -- where the store lives under sudo -------------------------------------------------------------


@pytest.fixture
def homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """An invoking user's home (owned by uid 65534) and root's own home from "passwd"."""
    if os.geteuid() != 0:
        pytest.skip("the sudo policy concerns root (and chown needs it)")
    user_home = tmp_path / "home" / "alice"
    (user_home / ".local" / "share").mkdir(parents=True)
    for p in (user_home, user_home / ".local", user_home / ".local" / "share"):
        os.chown(p, 65534, 65534)
    root_home = tmp_path / "roothome"
    root_home.mkdir()
    monkeypatch.setattr(store_mod, "_account_home", lambda uid: root_home)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    return user_home, root_home


def test_root_under_sudo_keeps_its_sessions_out_of_the_users_home(homes, monkeypatch) -> None:
    user_home, root_home = homes
    monkeypatch.setenv("HOME", str(user_home))  # sudo -E, or a sudo that keeps HOME
    expected = root_home / ".local" / "share" / "vnetdoctor" / "sessions.db"
    assert default_db_path() == expected
    monkeypatch.setenv("XDG_DATA_HOME", str(user_home / ".local" / "share"))
    assert default_db_path() == expected
    before = modes(user_home)
    with SessionStore() as store:
        store.start_session(F.request(), source="test")
        assert store.path == expected
    assert modes(user_home) == before  # nothing created in the user's home
    assert expected.stat().st_uid == 0 and stat.S_IMODE(expected.parent.stat().st_mode) == 0o700


def test_root_keeps_a_data_dir_of_its_own_choosing(homes, tmp_path, monkeypatch) -> None:
    _, root_home = homes
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))  # root's own (tmp_path is root's)
    assert default_db_path() == tmp_path / "xdg" / "vnetdoctor" / "sessions.db"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(root_home))
    assert default_db_path() == root_home / ".local" / "share" / "vnetdoctor" / "sessions.db"


def test_a_user_other_than_root_keeps_the_xdg_rules(homes, monkeypatch) -> None:
    user_home, _ = homes
    monkeypatch.setattr(store_mod.os, "geteuid", lambda: 65534)
    monkeypatch.setenv("HOME", str(user_home))
    assert default_db_path() == user_home / ".local" / "share" / "vnetdoctor" / "sessions.db"


def test_sqlite_gives_side_files_the_main_files_mode(tmp_path: Path) -> None:
    """The SQLite behaviour the store relies on: -wal/-shm copy the database file's mode."""
    db = tmp_path / "probe.db"
    fd = os.open(db, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    old = os.umask(0)
    try:
        con = sqlite3.connect(db)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("CREATE TABLE t (x)")
        con.commit()
        side = {n: stat.S_IMODE(Path(f"{db}{n}").stat().st_mode) for n in ("-wal", "-shm")}
        con.close()
    finally:
        os.umask(old)
    assert side == {"-wal": 0o600, "-shm": 0o600}
