"""The changes panel (issue 13, item 3): what this session changed, and its undo behind a confirmation.

Pilot tests at 80x24 on the production app with the fake engine; the fix is a real
command on a temporary file (run without a shell), so applying and undoing are
observable. The lab test (tests/lab/test_tui_lab.py) does the same on a lab scenario.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.tui.support.engine import FIREWALL_FIX, MemoryStore, make_app, scenario_results, with_fix
from tests.tui.support.waiting import screen_text, settle, showing, wait_until
from vnetdoctor.knowledge.model import PASS, Fix
from vnetdoctor.session.recorder import SessionRecorder
from vnetdoctor.tui.screens.changes import ChangesScreen
from vnetdoctor.tui.screens.dialogs import FixConfirmDialog
from vnetdoctor.tui.screens.walk import WalkScreen

SIZE = (80, 24)


def fix_app(tmp_path, fix: Fix, **kwargs):  # type: ignore[no-untyped-def]
    """The walk with ``fix`` as the firewall step's only fix; its re-run passes."""
    firewall = next(r for r in scenario_results() if r.step == "network.firewall")
    fixed = replace(firewall, status=PASS, note="no rule drops our echo requests", findings=())
    return make_app(allow_changes=True, results=with_fix(fix), fixed_results={"network.firewall": fixed}, **kwargs)


async def apply_it(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("f")
    await wait_until(pilot, lambda: showing(pilot.app, FixConfirmDialog), what="the confirmation")
    await pilot.press("right", "enter")
    await settle(pilot)


def walk(app) -> WalkScreen:  # type: ignore[no-untyped-def]
    return next(s for s in app.screen_stack if isinstance(s, WalkScreen))


async def test_undo_runs_the_undo_argv_after_the_same_confirmation_and_is_recorded(tmp_path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "applied; rm -rf x"  # a value, never shell text
    fix = Fix.of(("touch", str(marker)), ("rm", "-f", str(marker)), risk="low", where="local")
    store = MemoryStore()
    recorder = SessionRecorder(store, source="tui")
    app, deps = fix_app(tmp_path, fix, recorder=recorder)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await apply_it(pilot)
        assert marker.exists()
        # The header keeps the verdict the session had before the fix.
        header = screen_text(app).splitlines()[0]
        assert "inconclusive · was: firewall.guest_" in header  # cut at 80 columns; the pane has it all
        verdict = screen_text(app)
        assert "was: firewall.guest_blocks → now:" in verdict and "after: touch" in verdict
        await pilot.press("x")
        await wait_until(pilot, lambda: showing(app, ChangesScreen), what="the changes panel")
        await settle(pilot)
        text = screen_text(app)
        assert "$ touch" in text and "runs in: local · exit 0" in text and "undo: rm -f" in text
        await pilot.press("u")
        await wait_until(pilot, lambda: showing(app, FixConfirmDialog), what="the undo confirmation")
        assert "Undo this fix?" in screen_text(app) and app.screen.focused.id == "cancel"
        # The undo has no undo: running `touch` again is the step's fix to make anew, as observed then.
        text = " ".join(screen_text(app).split())
        assert "undo: none: to make the change again, apply the fix from its step" in text
        assert "undo: touch" not in text
        await pilot.press("enter")  # Cancel is the default: nothing runs
        await settle(pilot)
        assert marker.exists() and showing(app, ChangesScreen)
        await pilot.press("u")
        await wait_until(pilot, lambda: showing(app, FixConfirmDialog), what="the undo confirmation")
        await pilot.press("right", "enter")
        await settle(pilot)
        assert not marker.exists() and isinstance(app.screen, WalkScreen)
        assert deps.engines[0].calls.count("network.firewall") == 3  # walk, after the fix, after the undo
        await pilot.press("x")
        await wait_until(pilot, lambda: showing(app, ChangesScreen), what="the changes panel")
        assert "undone: exit 0" in screen_text(app)
        await pilot.press("u")  # a change is undone once
        await settle(pilot)
        assert not showing(app, FixConfirmDialog)
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, WalkScreen)
    recorder.close()
    kinds = [k for k, _ in store.sessions["s1"]["events"]]
    assert kinds.index("fix_applied") < kinds.index("fix_undone")
    undone = dict(store.sessions["s1"]["events"])["fix_undone"]
    assert undone["command"] == fix.command and undone["undo_argv"] == ["rm", "-f", str(marker)]
    assert undone["returncode"] == 0 and undone["step"] == "network.firewall"


async def test_a_failed_fix_shows_its_exit_status_and_first_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "no-such-dir" / "f"
    fix = Fix.of(("touch", str(missing)), ("rm", "-f", str(missing)), risk="low", where="local")
    app, _ = fix_app(tmp_path, fix)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await apply_it(pilot)
        await pilot.press("x")
        await wait_until(pilot, lambda: showing(app, ChangesScreen), what="the changes panel")
        await settle(pilot)
        text = screen_text(app)
        assert "exit 1: touch: cannot touch" in text


async def test_no_changes_says_so_and_the_key_needs_allow_changes() -> None:
    app, _ = make_app(allow_changes=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await wait_until(pilot, lambda: showing(app, ChangesScreen), what="the changes panel")
        assert "No fix has been applied in this session." in screen_text(app)
        await pilot.press("u", "escape")
        await settle(pilot)
        assert isinstance(app.screen, WalkScreen)
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, WalkScreen)  # read-only: nothing was changed, no panel key


@pytest.fixture
def fake_runner(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """Snapshots run no command: the fix's argv is collected and reported as exit 0
    (the pilot tests above run real ones)."""
    from vnetdoctor.knowledge import apply
    from vnetdoctor.probes.nsexec import CommandResult

    ran: list[tuple[str, ...]] = []

    def run(where, argv, timeout):  # type: ignore[no-untyped-def]
        ran.append(tuple(argv))
        return CommandResult(tuple(argv), 0, "", "")

    monkeypatch.setattr(apply, "run_command", run)
    return ran


@pytest.mark.parametrize("shown", ["panel", "verdict"])
def test_changes_snapshot(snap_compare, screenshot, fake_runner, shown: str) -> None:  # type: ignore[no-untyped-def]
    firewall = next(r for r in scenario_results() if r.step == "network.firewall")
    fixed = replace(firewall, status=PASS, note="no rule drops our echo requests", findings=())
    app, _ = make_app(allow_changes=True, fixed_results={"network.firewall": fixed})

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await apply_it(pilot)
        if shown == "panel":
            await pilot.press("x")
            await wait_until(pilot, lambda: showing(pilot.app, ChangesScreen), what="the changes panel")
            await settle(pilot)
        assert fake_runner == [FIREWALL_FIX.argv]
        screenshot(pilot.app, f"changes-{shown}-80x24.svg")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


async def test_took_says_it_is_the_latest_runs_time_after_a_fix_and_its_undo(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Found off the demo path: "took 611 ms" before and after an undo, read as the whole
    diagnosis's time. The verdict says which run the time is of (knowledge/took.py)."""
    from vnetdoctor.tui.widgets.verdict import VerdictView
    from tests.tui.support.engine import PATH, FakeEngine

    marker = tmp_path / "applied"
    fix = Fix.of(("touch", str(marker)), ("rm", "-f", str(marker)), risk="low", where="local")
    firewall = next(r for r in scenario_results() if r.step == "network.firewall")
    fixed = replace(firewall, status=PASS, note="no rule drops our echo requests", findings=())

    class TimedEngine(FakeEngine):
        """The fake walk with the real engine's account of its time: 1312 ms, then each re-run's own."""

        def diagnosis(self):  # type: ignore[no-untyped-def]
            d = super().diagnosis()
            reruns = self.calls.count("network.firewall") - 1
            if reruns < 1:
                return replace(d, extra={"took": {"run": "walk"}})
            took = {"run": "rerun", "step": "network.firewall", "n": 2}
            return replace(d, duration_ms=600.0 + reruns, extra={"took": took})

    def factory(req, ask, on_event):  # type: ignore[no-untyped-def]
        return TimedEngine(req, with_fix(fix)(), ask=ask, on_event=on_event, points=PATH,
                           fixed_results={"network.firewall": fixed})

    app, _ = make_app(allow_changes=True, engine_factory=factory)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        headline = lambda: app.screen.query_one("#verdict-headline").render().plain  # noqa: E731
        await wait_until(pilot, lambda: "took" in headline(), what="the verdict's time")
        assert "the walk took 1.3 s" in headline()
        await apply_it(pilot)
        await wait_until(pilot, lambda: "601 ms" in headline(), what="the re-run's time")
        assert "the latest run (Firewall rules again, 2 steps) took 601 ms" in headline()
        await pilot.press("x")
        await wait_until(pilot, lambda: showing(app, ChangesScreen), what="the changes panel")
        await pilot.press("u")
        await wait_until(pilot, lambda: showing(app, FixConfirmDialog), what="the undo confirmation")
        await pilot.press("right", "enter")
        await settle(pilot)
        await wait_until(pilot, lambda: "602 ms" in headline(), what="the undo's re-run's time")
        assert "the latest run (Firewall rules again, 2 steps) took 602 ms" in headline()
        assert isinstance(app.screen.query_one(VerdictView).diagnosis.extra["took"], dict)
