"""Snapshots of a steered replay at 80x24: the end, the fix applied, the start, and the packets' run picker.

The session (``support.replay``) has a fix applied and a healthy re-run, recorded
through the real store; the App is built as ``vnetdoctor replay`` builds it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.tui.support.replay import record_fixed_session, replay_app
from tests.tui.support.waiting import settle, showing, wait_until
from vnetdoctor.session.timeline import FIX_APPLIED
from vnetdoctor.tui.screens.packets import PacketsScreen


@pytest.fixture
def app(tmp_path: Path):  # type: ignore[no-untyped-def]
    store, sid = record_fixed_session(tmp_path / "sessions.db")
    yield replay_app(store, sid)
    store.close()


def test_replay_opens_at_the_end(snap_compare, app, screenshot) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        screenshot(pilot.app, "replay-timeline-80x24.svg")

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_replay_at_the_fix_applied(snap_compare, app) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        walk = pilot.app.screen
        applied = next(i for i, m in enumerate(walk.timeline.moments) if m.kind == FIX_APPLIED)
        await pilot.press(*["left"] * (len(walk.timeline) - applied - 1))
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_replay_at_the_start(snap_compare, app) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_recorded_packets_of_the_first_run(snap_compare, app) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("p")
        await wait_until(pilot, lambda: showing(pilot.app, PacketsScreen) and pilot.app.screen.mode == "recorded")
        await pilot.press("r")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
