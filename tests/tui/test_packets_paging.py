"""A long recording is listed a page at a time; counts, the path view and saving use every packet.

At 100,000 frames listing them all took seconds (the table measures every cell), so
the recorded view lists :data:`PAGE_ROWS` and the next page when the cursor reaches
the last listed row. What the operator is told, and what is saved, is never only
the page.
"""

from __future__ import annotations

from pathlib import Path

from tests.tui.support.views import CaptureFactory, recorded_state, round_trip, views_app
from tests.tui.support.waiting import settle, wait_until
from vnetdoctor.probes.pcapng import read_pcapng
from vnetdoctor.tui.screens.packets import PacketsScreen
from vnetdoctor.tui.screens.packets_recorded import PAGE_ROWS, TALLY_FIRST
from vnetdoctor.tui.widgets.packet_list import PacketList
from vnetdoctor.tui.widgets.title_bar import TitleBar


def _rows(pings: int) -> list:  # type: ignore[type-arg]
    return [r for seq in range(pings) for r in round_trip(7000 + seq // 60000, seq % 60000, 0.001 * seq)]


def _app(rows: list, tmp_path: Path | None = None):  # type: ignore[no-untyped-def,type-arg]
    state = recorded_state(rows)
    return views_app(lambda: PacketsScreen(state, capture_factory=CaptureFactory(), capture_blocked=lambda: None,
                                           save_dir=str(tmp_path) if tmp_path else None), state.lang)


async def test_a_long_recording_is_listed_a_page_at_a_time_and_saved_whole(tmp_path: Path) -> None:
    rows = _rows(200)  # 1,200 frames: three pages
    app = _app(rows, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, PacketsScreen) and app.screen.mode == "recorded")
        screen = app.screen
        plist = screen.query_one(PacketList)
        assert plist.row_count == PAGE_ROWS and len(screen.shown_rows()) == len(rows)
        title = str(screen.query_one(TitleBar).query_one("#title-left").render())
        assert f"{len(rows):,}".replace(",", "") in title.replace(",", "") and f"{PAGE_ROWS} listed" in title
        await pilot.press("G")  # the last listed row: the next page comes
        await settle(pilot)
        assert plist.row_count == 2 * PAGE_ROWS and plist.cursor_row == PAGE_ROWS - 1
        await pilot.press("G")
        await settle(pilot)
        assert plist.row_count == len(rows) and screen.unlisted == []
        assert "listed" not in str(screen.query_one(TitleBar).query_one("#title-left").render())

    app = _app(rows, tmp_path)  # saving before paging saves every frame, not the page
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, PacketsScreen) and app.screen.mode == "recorded")
        screen = app.screen
        screen._save_to(str(tmp_path / "all.pcapng"))  # what the save dialog hands back
        await wait_until(pilot, lambda: (tmp_path / "all.pcapng").exists() and "saved" in screen.last_message)
        assert len(read_pcapng((tmp_path / "all.pcapng").read_bytes())) == len(rows)


async def test_a_big_recordings_path_view_follows_once_tallied() -> None:
    rows = _rows(TALLY_FIRST // 6 + 10)  # just over the size tallied before listing
    app = _app(rows)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, PacketsScreen) and app.screen.mode == "recorded")
        screen = app.screen
        await wait_until(pilot, lambda: bool(screen.trackers), what="the path view's tally")
        await settle(pilot)
        # The tally follows the listing: every ping's group, not only the listed page's.
        assert len(screen._tracker.groups) == len(rows) // 6
