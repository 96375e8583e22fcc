"""Eight real ``vnetdoctor diagnose`` runs and a TUI walk record into one database at once.

This is the fleet-script situation that used to lose whole diagnoses ("database
is locked", exit 2, nothing kept). Every run must succeed, and every session must
hold every step it reported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.tui.support.engine import make_app, scenario_results
from vnetdoctor.session.recorder import SessionRecorder
from vnetdoctor.tui.screens.walk import WalkScreen
from tests.tui.support.waiting import settle, wait_until

from vnetdoctor import lab
from vnetdoctor.store import SessionStore

pytestmark = pytest.mark.lab

N = 8


def start(argv: list[str], n: int) -> list[subprocess.Popen[str]]:
    """``n`` copies of ``argv`` at once (they finish while the TUI below records)."""
    return [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "LANG": "C.UTF-8"}) for _ in range(n)]


@pytest.mark.slow  # over 5 s on a loaded 2-core machine
async def test_eight_diagnose_runs_and_a_tui_walk_lose_nothing(lab_prefix: str, tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    with lab.up("firewall.guest_blocks", lab_prefix) as inst:
        argv = [sys.executable, "-m", "vnetdoctor", "diagnose", *inst.diagnose_args(), "--json", "--db", str(db)]
        procs = start(argv, N)
        try:
            # The TUI records with the same short waits as `vnetdoctor tui` (commands/tui.py).
            store = SessionStore(db, busy_timeout=1.0, write_attempts=2)
            recorder = SessionRecorder(store, source="tui")
            app, _ = make_app(recorder=recorder, store=store, busy_ms=40)
            async with app.run_test(size=(100, 30)) as pilot:
                await settle(pilot)
                await wait_until(pilot, lambda: isinstance(app.screen, WalkScreen) and app.screen.complete,
                                 timeout=60, what="the walk")
                assert recorder.flush(60)
            status = recorder.close()
            results = [p.communicate(timeout=120) for p in procs]
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
    assert status.complete and not recorder.errors
    failures = [(p.returncode, err.strip()) for p, (_, err) in zip(procs, results) if p.returncode != 1]
    assert failures == []  # exit 1: the cause was named; never 2 ("database is locked")
    docs = [json.loads(out) for out, _ in results]
    for doc in docs:
        assert doc["session_id"], doc
        rec = store.load(doc["session_id"])
        assert rec.finished is not None
        assert [s.step for s in rec.steps] == [s["id"] for s in doc["steps"]]
    tui = store.load(recorder.session_id or "")
    assert [s.step for s in tui.steps] == [r.step for r in scenario_results()] and tui.finished
    assert len(store.sessions()) == N + 1
    store.close()
