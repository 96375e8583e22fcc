"""Snapshots of the Packets screen at 80x24 and 160x48 (en, and zh at 80x24).

Deterministic: recorded packets with fixed times (a replay, so no capture runs),
the decoder is scapy's (pure), the cursor is parked on one packet. Each run also
writes the SVG into ``screenshots/`` for the README.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fakes_views import ViewsApp, lost_at_guest, recorded_state, round_trip, wait_for
from vnetdoctor.tui.screens.packets import PacketsScreen
from vnetdoctor.tui.widgets.packet_detail import PacketLayers
from vnetdoctor.tui.widgets.packet_list import PacketList

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
ROWS = lost_at_guest() + round_trip(7, 1, 1.0)
FAILED = {"eth1@netns:vnd-guest": "No such device"}


def _app(lang: str) -> ViewsApp:
    state = recorded_state(ROWS, lang=lang, failed=FAILED)
    return ViewsApp(lambda: PacketsScreen(state), lang)


def _settle(name: str, presses: tuple[str, ...] = ()) -> Any:
    async def run_before(pilot: Any) -> None:
        screen = pilot.app.screen
        plist = screen.query_one(PacketList)
        await wait_for(pilot, lambda: plist.row_count == len(ROWS), what="the recorded packets")
        await pilot.press(*presses)
        row = plist.selected()
        layers = screen.query_one(PacketLayers)
        await wait_for(pilot, lambda: layers.shown_key == str(plist.cursor_row), timeout=15,
                       what="the decoded layers")
        assert row is not None
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        SCREENSHOTS.mkdir(exist_ok=True)
        pilot.app.save_screenshot(name, path=str(SCREENSHOTS))

    return run_before


@pytest.mark.parametrize(
    ("size", "lang", "name", "presses"),
    [
        pytest.param((80, 24), "en", "packets-80x24.svg", (), id="packets-80x24"),
        pytest.param((160, 48), "en", "packets-160x48.svg", ("down",) * 8, id="packets-160x48"),
        pytest.param((80, 24), "zh", "packets-80x24-zh.svg", (), id="packets-80x24-zh"),
    ],
)
def test_packets_snapshot(snap_compare: Any, size: tuple[int, int], lang: str, name: str,
                          presses: tuple[str, ...]) -> None:
    assert snap_compare(_app(lang), terminal_size=size, run_before=_settle(name, presses))


def test_packets_live_snapshot(snap_compare: Any) -> None:
    """A live capture (fake, fed fixed packets; the clock is fixed) with one point that did not open."""
    from fakes_views import PATH, T0, CaptureFactory, FakeEngine, make_request
    from vnetdoctor.tui.state import SessionState

    factory = CaptureFactory()
    request = make_request()
    points = [*PATH, (PATH[-1][0], "missing1")]
    state = SessionState(request=request, engine=FakeEngine(request, points=points))
    app = ViewsApp(lambda: PacketsScreen(state, capture_factory=factory, capture_blocked=lambda: None,
                                         clock=lambda: T0, drain_interval=0.02))

    async def run_before(pilot: Any) -> None:
        screen = pilot.app.screen
        await wait_for(pilot, lambda: screen.mode == "live", what="the capture")
        factory.running().push(ROWS)
        plist = screen.query_one(PacketList)
        await wait_for(pilot, lambda: plist.row_count == len(ROWS), what="the packets")
        layers = screen.query_one(PacketLayers)
        await wait_for(pilot, lambda: layers.shown_key == str(plist.cursor_row), timeout=15)
        await pilot.pause()  # (no waiting for all workers: the capture's runs until the screen goes)
        pilot.app.save_screenshot("packets-live-80x24.svg", path=str(SCREENSHOTS))

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
