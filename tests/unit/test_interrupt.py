"""The signal guard's own guarantees, without Textual or a lab (the real commands: tests/lab/test_signals.py).

Why separately: the watchdog path only runs when an App does *not* exit in time
(a hung-up terminal that blocks writes, a stuck worker), which the real App on a
healthy pty never shows. Here a stand-in App that ignores the exit request forces
it: the guard must write the reset sequences itself, run the command's emergency
cleanups, and end the process with 128+N within its grace period.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from vnetdoctor.interrupt import Interrupted, SignalGuard, interrupted_message
from vnetdoctor.terminal_exit import RESET_SEQUENCES

SCRIPT = textwrap.dedent(
    """
    import signal, sys, threading, time
    from pathlib import Path
    from vnetdoctor.interrupt import SignalGuard

    class StuckApp:  # has a loop, accepts exit requests, never acts on them
        def __init__(self):
            import asyncio
            self._loop = asyncio.new_event_loop()
        def exit(self, result=None, return_code=0, message=None):
            pass

    marker = Path(sys.argv[1])
    with SignalGuard(grace=float(sys.argv[2])) as guard:
        guard.on_emergency("cleanup", lambda: marker.write_text("cleaned"))
        guard.attach(StuckApp())
        sys.stdout.write("ready\\n"); sys.stdout.flush()
        if sys.argv[3:] == ["deaf"]:  # the main thread cannot notice a signal: only our threads can
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGHUP})
        threading.Event().wait(60)  # the "App" that never returns
    sys.exit(5)
    """
)


GRACE = 0.5  # the stand-in App's grace: seconds before the watchdog steps in


def _read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    out = b""
    deadline = time.monotonic() + timeout
    while needle not in out and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    return out


@dataclass
class _Run:
    proc: subprocess.Popen[bytes]
    master: int  # the pty's master end; -1 once a test has closed it (a dead terminal)
    marker: Path


@contextmanager
def _stuck_app(tmp_path: Path, *extra: str) -> Iterator[_Run]:
    """The stand-in App's process on a pty of its own, past its "ready"; killed if a test leaves it."""
    master, slave = os.openpty()
    marker = tmp_path / "cleaned"
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(marker), str(GRACE), *extra],
        stdin=slave, stdout=slave, stderr=slave, start_new_session=True, close_fds=True,
    )
    os.close(slave)
    run = _Run(proc, master, marker)
    try:
        assert b"ready" in _read_until(master, b"ready", 60)
        yield run
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if run.master >= 0:
            os.close(run.master)


def test_watchdog_resets_terminal_runs_cleanups_and_exits(tmp_path: Path) -> None:
    with _stuck_app(tmp_path) as run:
        started = time.monotonic()
        run.proc.send_signal(signal.SIGTERM)
        # Generous ceilings (a loaded machine is slow, not wrong); the only timing asserted is
        # the one the guard promises: the App had its whole grace before the watchdog acted.
        out = _read_until(run.master, b"interrupted by SIGTERM", 60)
        assert run.proc.wait(timeout=60) == 128 + signal.SIGTERM
        assert time.monotonic() - started >= GRACE
        assert RESET_SEQUENCES.encode() in out  # written by the watchdog, the App never did
        assert run.marker.read_text() == "cleaned"


def test_a_signal_the_main_thread_does_not_notice_still_ends_the_app(tmp_path: Path) -> None:
    """The race CI met (1 run in ~40 under load): the signal lands after the main thread
    released the GIL but before it sleeps, so the Python handler waits for that sleep to end.

    Blocking the signals in the main thread makes that moment permanent: only the C-level
    handler runs (in another thread) and writes the wakeup descriptor; the guard's listener
    must keep the watchdog's promise without the handler ever running.
    """
    with _stuck_app(tmp_path, "deaf") as run:
        time.sleep(0.2)  # past the mask: the main thread is deaf now
        run.proc.send_signal(signal.SIGTERM)
        out = _read_until(run.master, b"interrupted by SIGTERM", 30)
        assert run.proc.wait(timeout=30) == 128 + signal.SIGTERM  # not 5: the wait(60) did not end it
        assert RESET_SEQUENCES.encode() in out
        assert run.marker.read_text() == "cleaned"


def test_watchdog_on_a_dead_terminal_does_not_hang(tmp_path: Path) -> None:
    """No terminal to restore (the master is gone): cleanups still run, the process still ends."""
    with _stuck_app(tmp_path) as run:
        os.close(run.master)
        run.master = -1
        run.proc.send_signal(signal.SIGHUP)
        assert run.proc.wait(timeout=60) == 128 + signal.SIGHUP
        assert run.marker.read_text() == "cleaned"


def test_signal_before_any_app_raises_interrupted_and_handlers_are_restored() -> None:
    previous = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Interrupted) as info, SignalGuard():
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(100):  # the handler runs at the next bytecode boundary
            time.sleep(0.01)
    assert info.value.exit_code == 128 + signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is previous


def test_second_signal_while_unwinding_is_ignored() -> None:
    """A SIGTERM after the SIGHUP of the same SSH drop must not cut ``lab down`` short."""
    guard = SignalGuard()
    with pytest.raises(Interrupted), guard:
        os.kill(os.getpid(), signal.SIGHUP)
        time.sleep(0.5)
    with guard:  # re-entered: the signal is already being handled
        guard._handle(signal.SIGTERM, None)  # no exception: noted, not raised
    assert guard.signum == signal.SIGHUP


def test_messages_in_english_and_chinese() -> None:
    assert interrupted_message(signal.SIGHUP) == "vnetdoctor: interrupted by SIGHUP"
    assert "SIGTERM" in interrupted_message(signal.SIGTERM, "zh") and "中断" in interrupted_message(
        signal.SIGTERM, "zh"
    )


def test_the_grace_is_kept_on_the_clock_not_by_counting_ticks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A loaded machine stretches every 50 ms wait; the watchdog must still act when its grace
    is up by the clock (here a clock that jumps a second per look), not after 60 waits."""
    import vnetdoctor.interrupt as interrupt

    class Clock:
        now = 1000.0

        def monotonic(self) -> float:
            self.now += 1.0
            return self.now

    monkeypatch.setattr(interrupt, "monotonic", Clock().monotonic)
    guard = SignalGuard(grace=3.0)
    asked: list[int] = []
    ended: list[bool] = []
    monkeypatch.setattr(guard, "_ask_app_to_exit", lambda: asked.append(1) or False)
    monkeypatch.setattr(guard, "_emergency_exit", lambda: ended.append(True))
    guard._watch()
    assert ended == [True] and len(asked) <= 3
