"""Every lab scenario shows on the Start screen, and every kind of recorded session replays.

Regressions this guards: the Start screen died on a healthy lab (its note was None),
and a replay of a session with a re-run or an applied fix died with DuplicateIds. Each
replay is also steered: to its start and back to its end, and for the fixed session
the fix and the re-runs are moments of its timeline and its packets come in runs.
The sessions replayed here are recorded the ways the test suite records them: a TUI
walk on a real lab with a fix applied (which re-runs its step) and then the whole walk
re-run, and ``diagnose`` runs of a fault and of a healthy lab. Each replays to its
recorded verdict without an error, at 80x24.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from tests.tui.support.waiting import screen_text, settle, showing, wait_until

pytestmark = [pytest.mark.lab, pytest.mark.slow]


def _runnable() -> list[str]:
    from vnetdoctor.lab import SCENARIOS

    return sorted(name for name, s in SCENARIOS.items() if s.available() is None)


async def test_the_start_screen_with_each_lab_scenario_up(lab_prefix: str) -> None:
    """One scenario at a time under this test's prefix: its row, with its note, and no crash."""
    from vnetdoctor.lab.lifecycle import down_report, up
    from vnetdoctor.tui.app import VnetDoctorApp
    from vnetdoctor.tui.screens.start import StartScreen
    from vnetdoctor.tui.state import SessionState
    from vnetdoctor.session.targets import discover

    def ours():  # type: ignore[no-untyped-def]
        found, notes = discover()
        return [t for t in found if t.kind != "lab" or t.name.startswith(lab_prefix)], notes

    names = _runnable()
    assert len(names) > 20
    for name in names:
        up(name, lab_prefix)
        try:
            app = VnetDoctorApp(SessionState(request=None, lang="en"), lambda *a: None, discover_fn=ours)
            async with app.run_test(size=(80, 24)) as pilot:
                await wait_until(pilot, lambda: showing(app, StartScreen) and app.screen.targets, timeout=30,
                                 what=f"the Start screen with {name}")
                await settle(pilot)
                row = next(t for t in app.screen.targets.values() if t.name == f"{lab_prefix} {name}")
                assert row.note, name
                assert name in screen_text(app), name
        finally:
            assert not down_report(lab_prefix).problems


def _replay_app(store, session_id: str):  # type: ignore[no-untyped-def]
    """The App as ``vnetdoctor replay`` builds it (the record's frames read back after the verdict)."""
    from vnetdoctor.commands.replay import replay_state
    from vnetdoctor.tui.app import VnetDoctorApp

    state, factory = replay_state(store, session_id, "en")
    return VnetDoctorApp(state, factory, autorun=True), store.load(session_id)


async def _walk_with_a_fix_and_a_rerun(lab_prefix: str, db) -> None:  # type: ignore[no-untyped-def]
    from vnetdoctor.cli import build_parser
    from vnetdoctor.commands.tui import request_from_args
    from vnetdoctor.lab.lifecycle import up
    from vnetdoctor.tui.app import VnetDoctorApp
    from vnetdoctor.tui.launch import live_engine_factory
    from vnetdoctor.session.recorder import SessionRecorder
    from vnetdoctor.tui.screens.walk import WalkScreen
    from vnetdoctor.tui.state import SessionState
    from vnetdoctor.store import SessionStore

    instance = up("firewall.guest_blocks", lab_prefix)
    request = request_from_args(build_parser().parse_args(["tui", *instance.diagnose_args()]), "en")
    store = SessionStore(db)
    recorder = SessionRecorder(store, source="tui", scenario="firewall.guest_blocks")
    state = SessionState(request=request, lang="en", store=store, allow_changes=True)
    app = VnetDoctorApp(state, live_engine_factory, recorder=recorder, autorun=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, WalkScreen) and app.screen.complete,
                         timeout=90, what="the walk")
        await settle(pilot)
        await pilot.press("f")
        await pilot.pause()
        await pilot.press("right", "enter")  # Apply: the fix runs, its step runs again
        await wait_until(pilot, lambda: not app.screen.workers or app.screen.complete, timeout=60)
        await settle(pilot)
        await pilot.press("a")  # and the whole walk again
        await wait_until(pilot, lambda: app.screen.complete, timeout=90, what="the re-run")
        await settle(pilot)
    recorder.close()
    store.close()


async def test_every_kind_of_recorded_session_replays(lab_prefix: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from vnetdoctor.lab.lifecycle import down_report, up
    from vnetdoctor.store import SessionStore
    from vnetdoctor.tui.screens.walk import WalkScreen

    db = tmp_path / "s.db"
    await _walk_with_a_fix_and_a_rerun(lab_prefix, db)
    assert not down_report(lab_prefix).problems
    for name in ("healthy", "link.host_if_down"):
        inst = up(name, lab_prefix)
        proc = subprocess.run([sys.executable, "-m", "vnetdoctor", "diagnose", *inst.diagnose_args(), "--db",
                               str(db)], capture_output=True, text=True, timeout=120)
        assert proc.returncode in (0, 1), proc.stderr
        assert not down_report(lab_prefix).problems
    store = SessionStore(db, readonly=True)
    sessions = [s.id for s in store.sessions()]
    assert len(sessions) == 3
    walked = [store.load(i) for i in sessions if store.load(i).source == "tui"]
    assert len(walked) == 1 and "fix_applied" in {e.kind for e in walked[0].events}
    assert len([s for s in walked[0].steps if s.step == "network.firewall"]) >= 3  # walk, fix, re-run
    for session_id in sessions:
        app, recorded = _replay_app(store, session_id)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, WalkScreen) and app.screen.complete,
                             timeout=60, what=f"the replay of {session_id}")
            await settle(pilot)
            walk = app.screen
            assert walk.diagnosis is not None, session_id
            verdict = walk.diagnosis.verdict
            # The timeline steers it: the start shows nothing run, the end the recorded verdict.
            await pilot.press("g")
            await settle(pilot)
            assert walk.results == {} and walk.position == 0, session_id
            await pilot.press("G")
            await settle(pilot)
            assert walk.diagnosis.verdict == verdict and set(walk.results) == {s.step for s in recorded.steps}
            if recorded.source == "tui":  # the fixed session: the fix and the re-runs are moments
                kinds = [m.kind for m in walk.timeline.moments]
                assert "fix_applied" in kinds and "rerun" in kinds, kinds
                applied = next(m for m in walk.timeline.moments if m.kind == "fix_applied")
                assert applied.ok is True
                await pilot.press("p")
                await wait_until(pilot, lambda: getattr(app.screen, "mode", "") == "recorded", timeout=30,
                                 what="the recorded packets")
                assert len(app.screen.runs) >= 2, "the first walk's packets and the re-run's"
                await pilot.press("escape")
                await settle(pilot)
            assert app._exception is None, session_id
