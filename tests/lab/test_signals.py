"""SIGHUP, SIGTERM and SIGINT end ``demo``, ``tui`` and ``replay`` cleanly, for real, in a pty.

Why these run the real command in a pseudo-terminal instead of the pilot: what
goes wrong on an SSH drop is outside the App — the terminal left in the
alternate screen with mouse reporting on, a demo's lab namespaces and servers
left running, the session left looking like a crash. Only the real process, on a
real (pseudo-)terminal, killed by PID, shows that. Each test waits (bounded) for
the screen to be drawn, signals the process, and checks: it exits within a few
seconds with 128+N; the last thing on the terminal after the last
alternate-screen enter is the exit with mouse, bracketed paste off and the
cursor shown; the lab is gone with its servers; the session is interrupted.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = [pytest.mark.lab, pytest.mark.slow]  # each run drives a real terminal for seconds

VNETDOCTOR = [sys.executable, "-m", "vnetdoctor"]
ALT_ENTER, ALT_EXIT = b"\x1b[?1049h", b"\x1b[?1049l"
RESTORED = (ALT_EXIT, b"\x1b[?1000l", b"\x1b[?1003l", b"\x1b[?1006l", b"\x1b[?2004l", b"\x1b[?25h")
EXIT_WITHIN = 12.0  # seconds: the App's grace (3 s) plus taking a lab down, with room to spare


@dataclass
class PtyRun:
    """A command running on its own pseudo-terminal (session leader, the pty its ctty)."""

    pid: int
    master: int
    output: bytearray = field(default_factory=bytearray)
    status: int | None = None

    def read_until(self, predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
        """Read output until ``predicate(output)`` holds or ``timeout`` passes (no sleeping)."""
        deadline = time.monotonic() + timeout
        while not predicate(bytes(self.output)):
            left = deadline - time.monotonic()
            if left <= 0 or self.master < 0:
                return predicate(bytes(self.output))
            ready, _, _ = select.select([self.master], [], [], min(left, 0.2))
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # EIO: every slave side is closed, the process is gone
                    chunk = b""
                if not chunk:
                    self.close_master()
                    continue
                self.output += chunk
        return True

    def wait_exit(self, timeout: float) -> int | None:
        """Drain the output and reap the process; its raw wait status, or None if still running."""
        deadline = time.monotonic() + timeout
        while self.status is None and time.monotonic() < deadline:
            if self.master >= 0:
                self.read_until(lambda _out: False, min(0.2, deadline - time.monotonic()))
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = status
        if self.status is not None and self.master >= 0:
            self.read_until(lambda _out: False, 1.0)  # whatever is still buffered
        return self.status

    def close_master(self) -> None:
        if self.master >= 0:
            os.close(self.master)
            self.master = -1

    def kill_if_running(self) -> None:
        """A test that failed half-way must not leave its process behind (by PID only)."""
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                _, self.status = os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
        self.close_master()


@contextmanager
def in_pty(argv: list[str], cwd: Path) -> Iterator[PtyRun]:
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="100", LINES="30", LANG="C.UTF-8")
    env.pop("VNETDOCTOR_DEBUG", None)
    env.pop("TEXTUAL", None)
    pid, master = pty.fork()
    if pid == 0:  # the child: size the terminal Textual will ask about, then become the command
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
            os.chdir(cwd)
            os.execvpe(argv[0], argv, env)
        finally:
            os._exit(127)
    run = PtyRun(pid, master)
    try:
        yield run
    finally:
        run.kill_if_running()


def drawn(out: bytes) -> bool:
    """The App is in the alternate screen and has drawn its footer (the last line it paints)."""
    i = out.rfind(ALT_ENTER)
    return i >= 0 and b" help" in out[i:]


def assert_terminal_restored(out: bytes) -> None:
    enter = out.rfind(ALT_ENTER)
    assert enter >= 0, "the App never entered the alternate screen"
    tail = out[enter:]
    for seq in RESTORED:
        assert seq in tail, f"{seq!r} missing after the last alternate-screen enter: {tail[-300:]!r}"
    assert out.rfind(ALT_EXIT) > out.rfind(ALT_ENTER)


def assert_exited_by_handler(run: PtyRun, sig: int, started: float) -> None:
    status = run.wait_exit(EXIT_WITHIN)
    elapsed = time.monotonic() - started
    assert status is not None, f"still running {EXIT_WITHIN}s after {sig!r}: {bytes(run.output)[-400:]!r}"
    assert os.WIFEXITED(status), f"killed by signal {os.WTERMSIG(status)} instead of handling it"
    assert os.WEXITSTATUS(status) == 128 + sig, bytes(run.output)[-600:]
    assert elapsed < EXIT_WITHIN


def lab_pids(prefix: str) -> list[int]:
    from vnetdoctor.lab import state

    loaded = state.load(prefix)
    return [r.pid for r in loaded.processes.values()] if loaded else []


def assert_lab_gone(prefix: str, server_pids: list[int]) -> None:
    from vnetdoctor.lab.lifecycle import SERVER_SCRIPT, lab_exists
    from vnetdoctor.lab.state import find_marked_processes

    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    assert not [line for line in netns.stdout.splitlines() if line.startswith(prefix)], netns.stdout
    assert lab_exists(prefix) == []
    assert find_marked_processes(prefix, SERVER_SCRIPT) == []
    for pid in server_pids:
        assert not Path(f"/proc/{pid}").exists() or _zombie_or_other(pid), f"lab server {pid} left"


def _zombie_or_other(pid: int) -> bool:
    """A PID that exists again is a zombie or a reused PID, not a live lab server."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] == "Z" or b"servers.py" not in cmdline


def session_of(db: Path):  # type: ignore[no-untyped-def]
    from vnetdoctor.store import SessionStore

    store = SessionStore(db, readonly=True)
    try:
        sessions = store.sessions()
        assert len(sessions) == 1, sessions
        return sessions[0], store.load(sessions[0].id)
    finally:
        store.close()


def assert_interrupted(db: Path, sig: int) -> None:
    """Listed as interrupted, the signal named, and nothing recorded as a verdict."""
    summary, recorded = session_of(db)
    assert summary.state == "interrupted", f"the walk was not cut short: {summary}"
    assert recorded.finished is None, "a verdict was recorded beside the interrupted mark"
    reasons = [e.detail.get("reason") for e in recorded.events if e.kind == "interrupted"]
    assert reasons == [signal.Signals(sig).name]
    assert recorded.events[-1].kind == "interrupted", [e.kind for e in recorded.events]


# -- demo: the lab goes down, the session is interrupted, the terminal restored --------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_demo_signal_restores_terminal_and_takes_lab_down(sig: int, lab_prefix: str, tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    argv = [*VNETDOCTOR, "demo", "link.guest_if_down", "--prefix", lab_prefix, "--db", str(db),
            "--lang", "en"]
    with in_pty(argv, tmp_path) as run:
        assert run.read_until(drawn, 60), bytes(run.output)[-400:]
        servers = lab_pids(lab_prefix)
        assert servers, "the scenario's tcp and dns servers should be running"
        wait_for_session(run, db)  # the walk (about 1.5 s here) has begun and is recorded
        started = time.monotonic()
        os.kill(run.pid, sig)
        assert_exited_by_handler(run, sig, started)
        out = bytes(run.output)
    assert_terminal_restored(out)
    assert b"taken down" in out
    assert_lab_gone(lab_prefix, servers)
    assert_interrupted(db, sig)


def test_demo_hangup_after_the_terminal_is_gone_does_not_hang(lab_prefix: str, tmp_path: Path) -> None:
    """An SSH drop: the pty's master goes away, the kernel sends SIGHUP, writes to the tty fail."""
    db = tmp_path / "s.db"
    argv = [*VNETDOCTOR, "demo", "link.guest_if_down", "--prefix", lab_prefix, "--db", str(db)]
    with in_pty(argv, tmp_path) as run:
        assert run.read_until(drawn, 60), bytes(run.output)[-400:]
        servers = lab_pids(lab_prefix)
        assert servers, "the scenario's tcp and dns servers should be running"
        wait_for_session(run, db)
        started, hung_up_at = time.monotonic(), time.time()
        run.close_master()  # hang-up: SIGHUP to the session leader, EIO for every later write
        status = run.wait_exit(EXIT_WITHIN)
        assert status is not None, "hung after the terminal went away"
        assert time.monotonic() - started < EXIT_WITHIN
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 128 + signal.SIGHUP
    assert_lab_gone(lab_prefix, servers)
    # The signal handler closes the session before the App is asked to exit: the ~1.5 s walk,
    # which goes on in its thread while the App shuts down, records no verdict after it.
    assert_interrupted(db, signal.SIGHUP)


def test_demo_signal_while_the_lab_is_being_built(lab_prefix: str, tmp_path: Path) -> None:
    """The TUI never started: the signal unwinds ``lab up`` and the lab still goes down."""
    from vnetdoctor.lab.lifecycle import lab_exists

    argv = [*VNETDOCTOR, "demo", "firewall.guest_blocks", "--prefix", lab_prefix,
            "--db", str(tmp_path / "s.db")]
    with in_pty(argv, tmp_path) as run:
        deadline = time.monotonic() + 30
        while not lab_exists(lab_prefix) and time.monotonic() < deadline:
            run.read_until(lambda _out: False, 0.02)  # bounded poll for the lab's first trace
        assert lab_exists(lab_prefix), bytes(run.output)[-400:]
        assert ALT_ENTER not in bytes(run.output)  # still building: no screen yet
        started = time.monotonic()
        os.kill(run.pid, signal.SIGTERM)
        assert_exited_by_handler(run, signal.SIGTERM, started)
        out = bytes(run.output)
    assert ALT_ENTER not in out and b"interrupted by SIGTERM" in out
    assert_lab_gone(lab_prefix, [])
    assert not (tmp_path / "s.db").exists() or _no_sessions(tmp_path / "s.db")


def _no_sessions(db: Path) -> bool:
    from vnetdoctor.store import SessionStore

    with SessionStore(db, readonly=True) as store:
        return store.sessions() == []


# -- tui on a lab the test built (the command itself manages none), and replay ---------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_tui_signal_restores_terminal_and_interrupts_session(sig: int, lab_prefix: str, tmp_path: Path) -> None:
    from vnetdoctor.lab.lifecycle import lab_exists, up

    instance = up("link.guest_if_down", lab_prefix)  # the lab_prefix fixture takes it down
    db = tmp_path / "s.db"
    argv = [*VNETDOCTOR, "tui", *instance.diagnose_args(), "--db", str(db), "--lang", "en"]
    with in_pty(argv, tmp_path) as run:
        assert run.read_until(drawn, 60), bytes(run.output)[-400:]
        # The guided walk runs its first step and waits for the operator: a session in progress.
        wait_for_session(run, db)
        started = time.monotonic()
        os.kill(run.pid, sig)
        assert_exited_by_handler(run, sig, started)
        out = bytes(run.output)
    assert_terminal_restored(out)
    assert_interrupted(db, sig)
    assert b"kept as interrupted" in out and b" recorded (" not in out
    assert lab_exists(lab_prefix)  # tui manages no lab: the one it looked at is not its to remove


def test_tui_signal_after_the_verdict_keeps_it(lab_prefix: str, tmp_path: Path) -> None:
    """The other side of the race: a walk whose verdict was recorded before the signal keeps it,
    the record still says how the TUI ended, and the exit line says "recorded"."""
    from vnetdoctor.lab.lifecycle import up

    instance = up("link.guest_if_down", lab_prefix)
    db = tmp_path / "s.db"
    argv = [*VNETDOCTOR, "tui", *instance.diagnose_args(), "--db", str(db), "--lang", "en"]
    with in_pty(argv, tmp_path) as run:
        assert run.read_until(drawn, 60), bytes(run.output)[-400:]
        wait_for_session(run, db, finished=True)
        started = time.monotonic()
        os.kill(run.pid, signal.SIGTERM)
        assert_exited_by_handler(run, signal.SIGTERM, started)
        out = bytes(run.output)
    assert_terminal_restored(out)
    summary, recorded = session_of(db)
    assert summary.state == "finished" and recorded.finished is not None
    assert [e.detail.get("reason") for e in recorded.events if e.kind == "interrupted"] == ["SIGTERM"]
    assert f"session {summary.id} recorded".encode() in out and b"kept as interrupted" not in out


def wait_for_session(run: PtyRun, db: Path, timeout: float = 30, finished: bool = False) -> None:
    """Bounded wait until the command has recorded its session (reading the pty meanwhile)."""
    deadline = time.monotonic() + timeout
    while not _has_session(db, finished) and time.monotonic() < deadline:
        run.read_until(lambda _out: False, 0.02)
    assert _has_session(db, finished), f"no {'finished ' if finished else ''}session recorded in {db}"


def _has_session(db: Path, finished: bool = False) -> bool:
    if not db.exists():
        return False
    from vnetdoctor.store import SessionStore

    try:
        with SessionStore(db, readonly=True) as store:
            sessions = store.sessions()
            return bool(sessions) and (not finished or sessions[0].state == "finished")
    except Exception:  # noqa: BLE001 - mid-creation by the process under test: not yet
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_replay_signal_restores_terminal(sig: int, tmp_path: Path) -> None:
    from tests.unit.support import store_fixtures as F

    from vnetdoctor.store import SessionStore

    db = tmp_path / "s.db"
    with SessionStore(db) as store:
        sid = F.record(store, fixed=False)
    before = db.read_bytes()
    with in_pty([*VNETDOCTOR, "replay", sid, "--db", str(db), "--lang", "en"], tmp_path) as run:
        assert run.read_until(drawn, 60), bytes(run.output)[-400:]
        started = time.monotonic()
        os.kill(run.pid, sig)
        assert_exited_by_handler(run, sig, started)
        out = bytes(run.output)
    assert_terminal_restored(out)
    assert f"interrupted by {signal.Signals(sig).name}".encode() in out
    assert db.read_bytes() == before  # a replay records nothing, also when interrupted
