"""Snapshots of the Packets screen at 80x24 and 160x48 (en, and zh at 80x24).

Deterministic: recorded packets with fixed times (a replay, so no capture runs),
the decoder is scapy's (pure), the cursor is parked on one packet.
``--update-screenshots`` also writes the SVGs into ``screenshots/`` for the README.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.tui.support.views import lost_at_guest, recorded_state, round_trip, views_app
from tests.tui.support.waiting import wait_until
from vnetdoctor.probes.rows_active import CaptureFailure
from vnetdoctor.tui.app import VnetDoctorApp
from vnetdoctor.tui.screens.packets import PacketsScreen
from vnetdoctor.tui.widgets.packet_detail import PacketLayers
from vnetdoctor.tui.widgets.packet_list import PacketList

ROWS = lost_at_guest() + round_trip(7, 1, 1.0)
FAILED = (CaptureFailure("netns:vnd-guest", "eth1", "No such device"),)


def _app(lang: str) -> VnetDoctorApp:
    state = recorded_state(ROWS, lang=lang, failed=FAILED)
    return views_app(lambda: PacketsScreen(state), lang)


def _settle(screenshot: Any, name: str, presses: tuple[str, ...] = ()) -> Any:
    async def run_before(pilot: Any) -> None:
        screen = pilot.app.screen
        plist = screen.query_one(PacketList)
        await wait_until(pilot, lambda: plist.row_count == len(ROWS), what="the recorded packets")
        await pilot.press(*presses)
        row = plist.selected()
        layers = screen.query_one(PacketLayers)
        await wait_until(pilot, lambda: layers.shown_key == str(plist.cursor_row), timeout=15,
                       what="the decoded layers")
        assert row is not None
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        screenshot(pilot.app, name)

    return run_before


@pytest.mark.parametrize(
    ("size", "lang", "name", "presses"),
    [
        pytest.param((80, 24), "en", "packets-80x24.svg", (), id="packets-80x24"),
        pytest.param((160, 48), "en", "packets-160x48.svg", ("down",) * 8, id="packets-160x48"),
        pytest.param((80, 24), "zh", "packets-80x24-zh.svg", (), id="packets-80x24-zh"),
    ],
)
def test_packets_snapshot(snap_compare: Any, screenshot: Any, size: tuple[int, int], lang: str, name: str,
                          presses: tuple[str, ...]) -> None:
    assert snap_compare(_app(lang), terminal_size=size, run_before=_settle(screenshot, name, presses))


def test_packets_live_snapshot(snap_compare: Any, screenshot: Any) -> None:
    """A live capture (fake, fed fixed packets; the clock is fixed) with one point that did not open."""
    from tests.tui.support.engine import FakeEngine, PATH
    from tests.tui.support.views import CaptureFactory, T0, make_request
    from vnetdoctor.tui.state import SessionState

    factory = CaptureFactory()
    request = make_request()
    points = [*PATH, (PATH[-1][0], "missing1")]
    state = SessionState(request=request, engine=FakeEngine(request, points=points))
    app = views_app(lambda: PacketsScreen(state, capture_factory=factory, capture_blocked=lambda: None,
                                         clock=lambda: T0, drain_interval=0.02))

    async def run_before(pilot: Any) -> None:
        screen = pilot.app.screen
        await wait_until(pilot, lambda: screen.mode == "live", what="the capture")
        factory.running().push(ROWS)
        plist = screen.query_one(PacketList)
        await wait_until(pilot, lambda: plist.row_count == len(ROWS), what="the packets")
        layers = screen.query_one(PacketLayers)
        await wait_until(pilot, lambda: layers.shown_key == str(plist.cursor_row), timeout=15)
        await pilot.pause()  # (no waiting for all workers: the capture's runs until the screen goes)
        screenshot(pilot.app, "packets-live-80x24.svg")

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
