"""The path view's grid fits its pane (issue 10.5): req/rep and the marks keep their columns.

At 160x48 the path pane sits beside layers and hex (about 48 cells); at 60 columns it
is the screen's width. The probe label and the kernel's word give way (cut with an
ellipsis, the label at its start so ":3" still tells the probes apart); "req →"/"rep ←"
and every mark stay whole and in the same column on request and reply rows.
"""

from __future__ import annotations

import io

import pytest
from rich.cells import cell_len
from rich.console import Console
from tests.tui.support.views import lost_at_guest, recorded_state, round_trip, views_app
from tests.tui.support.waiting import settle, wait_until
from vnetdoctor.probes.rows_active import CaptureFailure
from vnetdoctor.tui.screens.packets import PacketsScreen
from vnetdoctor.tui.widgets.packet_list import PacketList
from vnetdoctor.tui.widgets.path_view import PathView, fit_widths

ROWS = lost_at_guest() + round_trip(7, 1, 1.0)
FAILED = (CaptureFailure("netns:vnd-guest", "eth1", "No such device"),)


def test_fit_widths_shrinks_the_kernel_word_then_the_label() -> None:
    assert fit_widths(80, 15, 5, [4, 5, 5], 16) == (15, 16)  # fits: nothing cut
    label, kernel = fit_widths(48, 15, 5, [4, 5, 5], 16)
    assert kernel == 8 and label + 2 + 5 + 2 + 4 + 2 + 5 + 2 + 5 + 2 + kernel <= 48
    assert fit_widths(20, 15, 5, [4, 5, 5], 0) == (6, 0)  # the floor: the pane scrolls sideways


@pytest.mark.parametrize("size", [(160, 48), (80, 24), (60, 20), (44, 20)], ids=["160x48", "80x24", "60x20", "44x20"])
async def test_request_and_reply_rows_keep_their_columns(size: tuple[int, int]) -> None:
    state = recorded_state(ROWS, lang="en", failed=FAILED)  # four points: eth1 not listened on
    app = views_app(lambda: PacketsScreen(state), "en")
    async with app.run_test(size=size) as pilot:
        plist = app.screen.query_one(PacketList)
        await wait_until(pilot, lambda: plist.row_count == len(ROWS), what="the recorded packets")
        if size[0] < 150:
            await pilot.press("p")  # the path pane (narrow layouts show one pane at a time)
        await settle(pilot)
        view = app.screen.query_one(PathView)
        lines = [s.text.rstrip() for s in view.query_one("Static").render_lines(view.query_one("Static").region.reset_offset)]
        rows = [line for line in lines if "req " in line or "rep " in line]
        assert rows and all("req →" in r or "req ←" in r or "rep ←" in r or "rep →" in r for r in rows), lines
        # The grid, drawn with all the room it wants, is no wider than the pane.
        group = view.query_one("Static").render()._renderable
        wide = Console(width=500, color_system=None, file=io.StringIO())
        with wide.capture() as captured:
            wide.print(group.renderables[-1])
        widest = max(cell_len(line.rstrip()) for line in captured.get().splitlines())
        assert widest <= view.scrollable_content_region.width, (widest, view.scrollable_content_region.width)
        # Every row's marks sit at the same cells as the header's interface names.
        columns = {tuple(i for i, c in enumerate(r) if c in "✓·?") for r in rows}
        assert len(columns) == 1, rows
