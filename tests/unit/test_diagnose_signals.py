"""``vnetdoctor diagnose`` ends on SIGTERM/SIGHUP/SIGINT as ``tui`` and ``demo`` do.

Found off the demo path: killed mid-walk (a service manager's stop, a fleet
script's timeout), ``diagnose`` died silently with 143 and its recorded session
read like a crash. Now: one line ``vnetdoctor: interrupted by SIGTERM``, exit
128+N, and the record kept with an ``interrupted`` mark and no verdict.

The real console script runs in a subprocess (only a real process shows what a
signal does), through ``cli.main``, with the live engine swapped for the one fake engine, whose
walk finishes a step and then waits at the second's gate, so the signal lands mid-walk
without probing anything on this host.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from vnetdoctor.store import SessionStore

ROOT = Path(__file__).resolve().parents[2]  # on the script's path: it imports tests.support
SCRIPT = textwrap.dedent(
    """
    import os, sys, threading, time
    import vnetdoctor.session as session_mod
    from tests.support.fake_engine import FakeEngine
    from vnetdoctor.knowledge.events import StepStarted
    from vnetdoctor.knowledge.model import PASS, StepResult
    from vnetdoctor.cli import main

    WALK = [StepResult("symptom.ping", "symptom", "ping", PASS, "3 of 3 replies"),
            StepResult("network.firewall", "network", "fw", PASS, "never reached")]

    def stuck_walk(request, ask, on_event):  # the first step passes, the second waits on a gate nobody opens
        def emit(event):
            on_event(event)
            if isinstance(event, StepStarted) and event.step == "network.firewall":
                sys.stdout.write("walking\\n"); sys.stdout.flush()
        return FakeEngine(request, WALK, ask=ask, on_event=emit, gates={"network.firewall": threading.Event()})

    session_mod.live_engine_factory = stuck_walk
    if os.environ.get("STUCK_IN") == "request":  # libvirt slow to say whether the guest exists
        import vnetdoctor.commands.diagnose as diagnose_mod

        def slow_request(args):
            sys.stdout.write("walking\\n"); sys.stdout.flush()
            for _ in range(600):
                time.sleep(0.1)
        diagnose_mod.build_request = slow_request
    sys.exit(main(sys.argv[1:]))
    """
)


def _read_until(stream, needle: bytes, timeout: float) -> bytes:  # type: ignore[no-untyped-def]
    out = b""
    deadline = time.monotonic() + timeout
    while needle not in out and time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], 0.1)
        if ready:
            chunk = os.read(stream.fileno(), 4096)
            if not chunk:
                break
            out += chunk
    return out


def signalled(sig: int, *options: str, stuck_in: str = "walk") -> tuple[int, str]:
    """Run ``diagnose`` stuck in its walk (or its request), send ``sig``; its exit status and stderr."""
    env = dict(os.environ, LANG="C.UTF-8", STUCK_IN=stuck_in,
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.pop("VNETDOCTOR_DEBUG", None)
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, "diagnose", "--target", "198.18.0.11", *options],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        assert b"walking" in _read_until(proc.stdout, b"walking", 30.0), proc.stderr.read() if proc.poll() else ""
        proc.send_signal(sig)
        code = proc.wait(15)
        return code, proc.stderr.read().decode()
    finally:
        if proc.poll() is None:
            proc.kill()  # by its own PID: a failed test leaves nothing running
            proc.wait()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_diagnose_signal_says_one_line_marks_the_record_and_exits_128_plus_n(sig: int, tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    code, err = signalled(sig, "--db", str(db), "--lang", "en")
    name = signal.Signals(sig).name
    assert code == 128 + sig, err
    assert err.strip().splitlines() == [f"vnetdoctor: interrupted by {name}"], err
    with SessionStore(db, readonly=True) as store:
        (summary,) = store.sessions()
        recorded = store.load(summary.id)
    assert summary.state == "interrupted" and recorded.finished is None
    assert [s.step for s in recorded.steps] == ["symptom.ping"]  # what ran before the signal is kept
    assert [e.detail.get("reason") for e in recorded.events if e.kind == "interrupted"] == [name]


def test_diagnose_says_it_in_chinese_too() -> None:
    code, err = signalled(signal.SIGTERM, "--no-record", "--lang", "zh")
    assert code == 128 + signal.SIGTERM
    assert err.strip().splitlines() == ["vnetdoctor: 收到 SIGTERM，已中断"], err


def test_diagnose_signal_while_the_request_is_checked(tmp_path: Path) -> None:
    """Before any session: the same line and status, and nothing recorded."""
    db = tmp_path / "s.db"
    code, err = signalled(signal.SIGTERM, "--db", str(db), "--lang", "en", stuck_in="request")
    assert code == 128 + signal.SIGTERM
    assert err.strip().splitlines() == ["vnetdoctor: interrupted by SIGTERM"], err
    assert not db.exists() or SessionStore(db, readonly=True).sessions() == []
