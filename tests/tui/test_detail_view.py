"""Enter on a row opens it in full (every list); q or Esc closes the view."""

from __future__ import annotations

from tests.tui.support.views import FakeRunner, live_state, lost_at_guest, recorded_state, standard_answers, views_app
from tests.tui.support.engine import make_app
from tests.tui.support.waiting import settle, showing, wait_until
from vnetdoctor.tui.screens.detail import DetailDialog
from vnetdoctor.tui.screens.packets import PacketsScreen
from vnetdoctor.tui.screens.tables import TablesScreen, TableView
from vnetdoctor.tui.screens.walk import WalkScreen
from vnetdoctor.tui.widgets.flowchart import FlowchartSidebar
from vnetdoctor.tui.widgets.packet_list import PacketList


def _fields(app) -> dict[str, str]:  # type: ignore[no-untyped-def]
    assert isinstance(app.screen, DetailDialog)
    return dict(app.screen.fields)


async def test_enter_on_a_firewall_rule_shows_it_whole_with_counters_and_handle() -> None:
    state = live_state()
    app = views_app(lambda: TablesScreen(state, runner=FakeRunner(standard_answers())), state.lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("7")
        screen = app.screen
        assert isinstance(screen, TablesScreen)
        view = screen.query_one("#tv-firewall", TableView)
        await wait_until(pilot, lambda: view.loaded, what="the firewall table")
        await pilot.pause()
        table = view.table
        rule_key = next(k for k in table.row_keys if k.endswith("echo-request drop"))
        table.move_cursor(row=table.get_row_index(rule_key))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DetailDialog), what="the detail view")
        fields = _fields(app)
        assert fields["rule"] == "ip saddr 198.18.0.1 icmp type echo-request drop"  # never cut with "…"
        assert fields["handle"] == "4" and fields["packets"] == "3" and fields["bytes"] == "252"
        await pilot.press("q")
        assert isinstance(app.screen, TablesScreen)


async def test_enter_on_a_packet_shows_its_whole_summary_and_esc_closes() -> None:
    rows = lost_at_guest()
    app = views_app(lambda: PacketsScreen(recorded_state(rows)))
    async with app.run_test(size=(80, 24)) as pilot:
        plist = app.screen.query_one(PacketList)
        await wait_until(pilot, lambda: plist.row_count == len(rows), what="recorded packets")
        plist.focus()
        await pilot.press("G", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DetailDialog), what="the detail view")
        fields = _fields(app)
        last = plist.packets[-1]
        assert fields["summary"] == last.summary.strip()
        assert fields["iface"] == last.iface and fields["len"] == str(last.length)
        assert fields["time"].endswith(" s") and len(fields["time"].split(".")[1]) == 8  # µs and " s"
        await pilot.press("escape")
        assert isinstance(app.screen, PacketsScreen)


async def test_enter_on_a_step_that_ran_shows_its_whole_note() -> None:
    app, _ = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        walk = app.screen
        assert isinstance(walk, WalkScreen)
        sidebar = walk.query_one(FlowchartSidebar)
        sidebar.focus()
        walk.goto("datalink.arp")
        await pilot.press("enter")
        await wait_until(pilot, lambda: showing(app, DetailDialog), what="the step in full")
        result = walk.results["datalink.arp"]
        assert app.screen.title_text == result.title  # type: ignore[attr-defined]
        assert _fields(app)["note"] == result.note and result.note
        await pilot.press("q")
        assert app.screen is walk


async def test_at_60x20_the_packet_info_keeps_its_room() -> None:
    """Below 80 columns the flow column goes (Enter shows it); the info column keeps ~25 cells."""
    rows = lost_at_guest()
    app = views_app(lambda: PacketsScreen(recorded_state(rows)))
    async with app.run_test(size=(60, 20)) as pilot:
        plist = app.screen.query_one(PacketList)
        await wait_until(pilot, lambda: plist.row_count == len(rows), what="recorded packets")
        await pilot.pause()
        widths = {str(c.key.value): c.width for c in plist.ordered_columns}
        assert "flow" not in widths and widths["info"] >= 20
        assert sum(widths.values()) + 2 * len(widths) <= 60  # no sideways scrolling
    app = views_app(lambda: PacketsScreen(recorded_state(rows)))
    async with app.run_test(size=(80, 24)) as pilot:
        plist = app.screen.query_one(PacketList)
        await wait_until(pilot, lambda: plist.row_count == len(rows), what="recorded packets")
        assert "flow" in {str(c.key.value) for c in plist.ordered_columns}


async def test_a_display_filter_on_recorded_packets_by_field_and_esc_clears_it() -> None:
    rows = lost_at_guest()
    app = views_app(lambda: PacketsScreen(recorded_state(rows)))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, PacketsScreen)
        plist = screen.query_one(PacketList)
        await wait_until(pilot, lambda: plist.row_count == len(rows), what="recorded packets")
        await pilot.press("slash")
        assert screen.query_one("#pk-filter").has_focus  # "/" never silently does nothing
        await pilot.press(*"side:guest proto:arp", "enter")
        assert plist.row_count == len([r for r in rows if r.vantage == "netns:vnd-guest" and "ARP" in r.summary])
        assert {p.iface for p in plist.packets} == {"eth0"} and plist.row_count > 0
        title = str(screen.query_one("#title-left").render())
        assert f"showing {plist.row_count} of {len(rows)}: side:guest proto:arp" in title
        assert len(screen.query_one("#pk-path").last_verdicts) >= 2  # the path view keeps every packet
        await pilot.press("slash", *"probe:icmp:4242 iface:vnet0", "enter")
        assert plist.row_count > 0 and all(p.iface == "vnet0" and p.tag.startswith("icmp:4242:") for p in plist.packets)
        await pilot.press("slash", *"colour:red", "enter")
        error = str(screen.query_one("#pk-filter-error").render())
        assert error == "unknown field colour: use iface, side, proto, addr or probe"
        assert plist.row_count > 0  # a bad filter changes nothing
        await pilot.press("escape")
        assert plist.row_count == len(rows) and screen.display_filter is None
        assert app.screen is screen  # the first esc cleared the filter; the next one leaves


async def test_side_keywords_work_in_chinese_too() -> None:
    rows = lost_at_guest()
    app = views_app(lambda: PacketsScreen(recorded_state(rows, lang="zh")), "zh")
    async with app.run_test(size=(80, 24)) as pilot:
        plist = app.screen.query_one(PacketList)
        await wait_until(pilot, lambda: plist.row_count == len(rows), what="recorded packets")
        app.screen.show_only("side:guest")
        guest = {p.iface for p in plist.packets}
        app.screen.show_only("side:虚拟机")
        assert guest == {p.iface for p in plist.packets} == {"eth0"}


def _answered_hypervisor() -> list:  # type: ignore[type-arg]
    """The fixture walk with the hypervisor question answered "disconnected" (a label of its own)."""
    from vnetdoctor.knowledge.model import StepResult

    from tests.tui.support.engine import scenario_results

    answered = StepResult("platform.hypervisor_settings", "platform", "Hypervisor settings", "fail",
                          note="the adapter is not connected", duration_ms=11, answer="disconnected")
    return [scenario_results()[0], answered]


async def test_an_answered_step_shows_the_answers_words_and_the_headers_duration() -> None:
    """The pane and the detail view say "not connected (box unticked)", never the id
    ``disconnected``; the view's time reads "11 ms" as the header does, not "0.0 s"."""
    from vnetdoctor.tui.widgets.step_detail import StepDetail

    app, _ = make_app(results=_answered_hypervisor)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        walk = app.screen
        assert isinstance(walk, WalkScreen)
        walk.query_one(FlowchartSidebar).focus()
        walk.goto("platform.hypervisor_settings")
        await settle(pilot)
        pane = next(p for p in walk.query(StepDetail) if p.planned.id == "platform.hypervisor_settings")
        note = str(pane.query_one("#step-note").render())
        assert "not connected (box unticked)" in note and "disconnected" not in note
        await pilot.press("enter")
        await wait_until(pilot, lambda: showing(app, DetailDialog), what="the step in full")
        fields = _fields(app)
        assert fields["your answer"] == "not connected (box unticked)"
        assert fields["took"] == "11 ms"
