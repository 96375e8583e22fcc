"""The `tui`, `demo` and `replay` commands: bad input is one line and exit 2; replay is read-only."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from tests.tui.support.engine import PATH, FakeEngine, QUESTION, REQUEST, fake_knowledge, scenario_results
from vnetdoctor.knowledge.events import StepFinished
from vnetdoctor.knowledge.replay import ReplayEngine
from vnetdoctor.session.recorder import SessionRecorder
from tests.tui.support.waiting import screen_text, settle


def vnetdoctor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI with stdin not a terminal (as CI does), capturing everything."""
    return subprocess.run(
        [sys.executable, "-m", "vnetdoctor", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {}), "VNETDOCTOR_DEBUG": ""},
    )


def one_line_exit_2(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["tui", "--target", "198.18.0.300"], "--target: '198.18.0.300' is not an IP address"),
        (["tui", "--target", "2001:db8::1"], "only IPv4"),
        (["tui", "--target", "198.18.0.11", "--host", "netns:no-such-ns-d1"], "unknown network namespace"),
        (["tui", "--from", "guest", "--target", "198.18.0.11"], "--from guest needs --guest VANTAGE"),
        (["tui", "--target", "198.18.0.11"], "needs a terminal"),
        (["tui"], "needs a terminal"),
    ],
)
def test_tui_refuses_bad_input_in_one_line(args: list[str], says: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    line = one_line_exit_2(vnetdoctor(*args, "--db", str(tmp_path / "s.db")))
    assert says in line


def test_replay_without_sessions_is_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert "no session database" in one_line_exit_2(vnetdoctor("replay", "--db", str(tmp_path / "none.db")))


def test_replay_of_an_unknown_session_is_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from vnetdoctor.store import SessionStore

    SessionStore(tmp_path / "s.db").close()
    line = one_line_exit_2(vnetdoctor("replay", "nope", "--db", str(tmp_path / "s.db")))
    assert "no session" in line


def test_demo_refuses_an_unknown_scenario(tmp_path) -> None:  # type: ignore[no-untyped-def]
    proc = vnetdoctor("demo", "firewall.nosuch", "--db", str(tmp_path / "s.db"))
    line = one_line_exit_2(proc)
    assert "unknown scenario 'firewall.nosuch'" in line or "needs root" in line


@pytest.mark.skipif(os.geteuid() != 0, reason="the terminal check comes after the root check")
def test_demo_without_a_terminal_builds_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    prefix = f"vndd1t{os.getpid() % 10000}-"
    line = one_line_exit_2(vnetdoctor("demo", "--prefix", prefix, "--db", str(tmp_path / "s.db")))
    assert "needs a terminal" in line
    assert not [n for n in os.listdir("/run/netns") if n.startswith(prefix)] if os.path.isdir("/run/netns") else True


async def test_replay_opens_read_only_with_the_recorded_verdict(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from vnetdoctor.tui.app import VnetDoctorApp
    from vnetdoctor.tui.screens.walk import WalkScreen
    from vnetdoctor.tui.state import SessionState

    from vnetdoctor.store import SessionStore

    store = SessionStore(tmp_path / "s.db")
    recorder = SessionRecorder(store, source="demo", scenario="firewall.guest_blocks")
    live = FakeEngine(REQUEST, scenario_results(), question=QUESTION, ask=lambda q: "yes", points=PATH,
                      on_event=lambda e: recorder.step(e.result) if isinstance(e, StepFinished) else None)
    recorder.start(REQUEST)
    recorder.finish(live.run())
    recorder.close()
    session_id = store.resolve("last")
    recorded = store.load(session_id)

    engines: list[ReplayEngine] = []

    def factory(request, ask, on_event):  # type: ignore[no-untyped-def]
        engines.append(ReplayEngine.from_recorded(recorded, ask=ask, on_event=on_event))
        return engines[-1]

    state = SessionState(request=recorded.request, replay=True, session_id=session_id, store=store,
                         scenario=recorded.scenario, allow_changes=True)
    app = VnetDoctorApp(state, factory, knowledge=fake_knowledge(), autorun=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WalkScreen) and screen.complete
        text = screen_text(app)
        assert "replay: read-only" in text and "firewall.guest_blocks" in text
        active = {b.binding.action for b in screen.active_bindings.values()}
        assert not active & {"rerun", "run_all", "apply_fix"}  # nothing runs, nothing changes
        assert "copy_fix" in active  # but the fix can still be copied
        results_before = dict(engines[0].results())
        await pilot.press("r", "a", "f")
        await settle(pilot)
        assert isinstance(app.screen, WalkScreen)
        assert engines[0].results() == results_before
        assert screen.results[QUESTION.step].answer == "yes"
    assert app.state.session_id == session_id  # replay records nothing new
    assert [s.id for s in store.sessions()] == [session_id]
