"""Pilot tests of the Tables screen with an injected fake probe runner."""

from __future__ import annotations

import dataclasses

import pytest

from tests.tui.support.engine import FakeEngine, GUEST, HOST
from tests.tui.support.views import (
    FIREWALL,
    FakeRunner,
    links,
    live_state,
    make_request,
    standard_answers,
    views_app,
)
from tests.tui.support.waiting import wait_until
from textual.widgets import Input, Static
from vnetdoctor.tui.app import VnetDoctorApp
from vnetdoctor.knowledge.model import StepResult
from vnetdoctor.probes.base import ERROR, OK, Observation
from vnetdoctor.probes.rows import LinkRow
from vnetdoctor.tui.screens.tables import TablesScreen, TableView
from vnetdoctor.tui.state import SessionState
from vnetdoctor.tui.widgets.keyed_table import KeyedTable
from vnetdoctor.tui.widgets.title_bar import TitleBar


def _app(runner: FakeRunner, state: SessionState | None = None, **kw: object) -> VnetDoctorApp:
    state = state or live_state()
    return views_app(lambda: TablesScreen(state, runner=runner, **kw), state.lang)


def _screen(app: VnetDoctorApp) -> TablesScreen:
    assert isinstance(app.screen, TablesScreen)
    return app.screen


def _title(app: VnetDoctorApp) -> str:
    return str(_screen(app).query_one(TitleBar).query_one("#title-left", Static).render())


async def _loaded(pilot, table_id: str = "links") -> KeyedTable:  # type: ignore[no-untyped-def]
    screen = _screen(pilot.app)
    view = screen.query_one(f"#tv-{table_id}", TableView)
    await wait_until(pilot, lambda: view.loaded and table_id not in screen._loading_tables,
                   what=f"the {table_id} table")
    await pilot.pause()
    return view.table


async def test_links_from_both_sides_keyed_by_side_and_name() -> None:
    runner = FakeRunner(standard_answers())
    app = _app(runner)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await _loaded(pilot)
        assert sorted(runner.calls) == [("link.list", str(GUEST)), ("link.list", str(HOST))]
        keys = table.row_keys
        assert keys[:3] == ["host|lo", "host|br0", "host|vnet0"] and keys[-1] == "guest|eth0"
        assert table.row_count == len(links()) + 2
        assert [c.key.value for c in table.ordered_columns] == ["at", "name", "operstate", "carrier", "mtu",
                                                                 "mac", "master"]
        assert "host 34 · guest 2" in _title(app)


async def test_filter_keeps_rows_containing_the_text_and_esc_clears_it() -> None:
    app = _app(FakeRunner(standard_answers()))
    async with app.run_test(size=(80, 24)) as pilot:
        table = await _loaded(pilot)
        await pilot.press("slash")
        flt = _screen(app).query_one("#tb-filter", Input)
        assert flt.has_focus and flt.display
        await pilot.press(*"VNET")
        assert table.row_keys == ["host|vnet0"]
        assert 'filter "VNET" 1/36' in _title(app)
        await pilot.press("enter")
        assert table.has_focus and flt.display and table.row_keys == ["host|vnet0"]
        await pilot.press("slash", "escape")
        assert table.row_count == 36 and table.filter_text == "" and not flt.display


async def test_sort_cycles_columns_numbers_sort_as_numbers_and_reverse() -> None:
    answers = standard_answers()
    answers[("link.list", str(HOST))] = links(host_mtu=9000)
    app = _app(FakeRunner(answers))
    async with app.run_test(size=(80, 24)) as pilot:
        table = await _loaded(pilot)
        for _ in range(5):  # at → name → operstate → carrier → mtu
            await pilot.press("s")
        assert table.sort_column == "mtu" and "sort mtu↑" in _title(app)
        mtus = [int(table.source_row(k)["mtu"]) for k in table.row_keys]  # type: ignore[index]
        assert mtus == sorted(mtus) and mtus[-1] == 65536 and 9000 in mtus
        assert _headers(table)["mtu"].endswith(" ↑") and _headers(table)["name"] == "name"
        await pilot.press("S")
        mtus = [int(table.source_row(k)["mtu"]) for k in table.row_keys]  # type: ignore[index]
        assert mtus == sorted(mtus, reverse=True) and "sort mtu↓" in _title(app)
        assert _headers(table)["mtu"].endswith(" ↓")  # the header says it too, where the eye is
        for _ in range(3):  # mtu → mac → master → back to the source order
            await pilot.press("s")
        assert table.sort_column is None and table.row_keys[0] == "host|lo"
        assert not [h for h in _headers(table).values() if h.endswith(("↑", "↓"))]


def _headers(table) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {str(c.key.value): str(c.label) for c in table.ordered_columns}


async def test_clicking_a_header_sorts_by_it() -> None:
    app = _app(FakeRunner(standard_answers()))
    async with app.run_test(size=(80, 24)) as pilot:
        table = await _loaded(pilot)
        x = sum(c.get_render_width(table) for c in table.ordered_columns[:2]) + 1  # the operstate header
        await pilot.click(table, offset=(x, 0))
        assert table.sort_column == "operstate"
        states = [table.source_row(k)["operstate"] for k in table.row_keys]  # type: ignore[index]
        assert states == sorted(states, key=str.lower)


async def test_refresh_updates_a_changed_cell_in_place_and_keeps_cursor_and_scroll() -> None:
    runner = FakeRunner(standard_answers())
    app = _app(runner)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await _loaded(pilot)
        table.focus()
        for _ in range(25):
            await pilot.press("down")
        await pilot.pause()
        cursor_key, scroll_y = table.cursor_key, table.scroll_y
        assert cursor_key == "host|tap21" and scroll_y > 0
        rows_before = dict(table.rows)  # RowKey -> Row objects
        keys_before = table.row_keys
        runner.answers[("link.list", str(HOST))] = links(host_mtu=9000)
        await pilot.press("r")
        await wait_until(pilot, lambda: runner.calls.count(("link.list", str(HOST))) == 2)
        table = await _loaded(pilot)
        stats = table.last_sync
        assert (stats.added, stats.removed, stats.updated_cells) == (0, 0, 1)
        assert table.row_keys == keys_before and table.row_count == len(keys_before)
        assert all(table.rows[k] is row for k, row in rows_before.items())  # the same Row objects
        assert table.cursor_key == cursor_key and table.scroll_y == scroll_y
        assert str(table.get_cell("host|vnet0", "mtu")) == "9000"


async def test_refresh_adds_and_removes_rows_by_key_without_moving_the_cursor() -> None:
    runner = FakeRunner(standard_answers())
    app = _app(runner)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await _loaded(pilot)
        table.focus()
        await pilot.press("down", "down")
        assert table.cursor_key == "host|vnet0"
        host = list(links(extra=True))
        del host[0]  # lo is gone, vnet9 is new
        runner.answers[("link.list", str(HOST))] = tuple(host)
        await pilot.press("r")
        await wait_until(pilot, lambda: runner.calls.count(("link.list", str(HOST))) == 2)
        table = await _loaded(pilot)
        assert (table.last_sync.added, table.last_sync.removed) == (1, 1)
        assert "host|lo" not in table.row_keys and table.row_keys.index("host|vnet9") == 33
        assert table.cursor_key == "host|vnet0"


async def test_a_skipped_probe_shows_its_reason_instead_of_an_empty_table() -> None:
    runner = FakeRunner(standard_answers())
    app = _app(runner)
    async with app.run_test(size=(80, 24)) as pilot:
        await _loaded(pilot)
        await pilot.press("9")  # libvirt domains: nothing answers
        await _loaded(pilot, "domains")
        view = _screen(app).query_one("#tv-domains", TableView)
        reason = str(view.query_one(".reason", Static).render())
        assert reason == "host netns:vnd-host: skipped: needs the libvirt daemon"
        assert view.has_class("-empty") and not view.table.display
        assert ("libvirt.domains", str(HOST)) in runner.calls  # libvirt tables are the host's view
        assert ("libvirt.domains", str(GUEST)) not in runner.calls


async def test_partial_failure_shows_rows_and_the_failed_side() -> None:
    answers = standard_answers()
    answers[("route.list", str(GUEST))] = RuntimeError("netlink said no")
    app = _app(FakeRunner(answers))
    async with app.run_test(size=(80, 24)) as pilot:
        await _loaded(pilot)
        await pilot.press("3")
        table = await _loaded(pilot, "routes")
        view = _screen(app).query_one("#tv-routes", TableView)
        assert table.row_count == 2 and table.display
        reason = str(view.query_one(".reason", Static).render())
        assert reason == "guest netns:vnd-guest: error: RuntimeError: netlink said no"
        assert "guest n/a" in _title(app)


@pytest.mark.slow  # over 5 s on a loaded 2-core machine
async def test_number_keys_and_brackets_switch_tables() -> None:
    runner = FakeRunner(standard_answers())
    app = _app(runner)
    async with app.run_test(size=(80, 24)) as pilot:
        await _loaded(pilot)
        screen = _screen(app)
        await pilot.press("7")
        assert screen.current == "firewall"
        table = await _loaded(pilot, "firewall")
        rule = "host|nftables|inet|filter|input|ip saddr 198.18.0.1 icmp type echo-request drop"
        assert table.source_row(rule)["verdict"] == "drop"  # type: ignore[index]
        assert table.source_row("host|nftables|inet|filter|input|")["rule"] == "(policy accept)"  # type: ignore[index]
        await pilot.press("right_square_bracket")
        assert screen.current == "sysctls"
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert screen.current == "fdb"
        await pilot.press("1")
        assert screen.current == "links"
        assert runner.calls.count(("link.list", str(HOST))) == 1  # switching back does not re-probe


async def test_auto_refresh_polls_one_at_a_time_until_turned_off() -> None:
    runner = FakeRunner(standard_answers())
    app = _app(runner, auto_interval=0.02)
    async with app.run_test(size=(80, 24)) as pilot:
        await _loaded(pilot)
        screen = _screen(app)
        runner.release.clear()  # probes now "take long"
        await pilot.press("a")
        assert screen.auto and "auto 0.02s" in _title(app)
        await wait_until(pilot, lambda: runner.inflight == 1)
        polls = screen.polls
        await pilot.press("r", "r")  # a poll is running: no second one starts
        assert screen.polls == polls and runner.max_inflight == 1
        runner.release.set()
        await wait_until(pilot, lambda: screen.polls >= polls + 3, what="three more polls")
        assert runner.max_inflight == 1  # the two sides run in sequence, polls never overlap
        await pilot.press("a")
        assert not screen.auto and screen._timer is None
        await app.workers.wait_for_complete()
        settled = screen.polls
        await pilot.pause(0.1)
        assert screen.polls == settled


async def test_side_switch_and_all_columns() -> None:
    app = _app(FakeRunner(standard_answers()))
    async with app.run_test(size=(80, 24)) as pilot:
        table = await _loaded(pilot)
        await pilot.press("v")
        assert table.row_count == 34 and "at" not in [c.key.value for c in table.ordered_columns]
        await pilot.press("v")
        assert table.row_keys == ["guest|lo", "guest|eth0"] and "only guest" in _title(app)
        await pilot.press("v", "c")
        names = [c.key.value for c in table.ordered_columns]
        assert names[:4] == ["at", "name", "kind", "operstate"] and "rx_dropped" in names
        assert len(names) == len(dataclasses.fields(LinkRow)) + 1


async def test_wide_terminal_shows_every_field() -> None:
    app = _app(FakeRunner(standard_answers()))
    async with app.run_test(size=(160, 48)) as pilot:
        table = await _loaded(pilot)
        assert len(table.ordered_columns) == len(dataclasses.fields(LinkRow)) + 1


async def test_replay_shows_recorded_rows_and_runs_no_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    request = make_request()
    recorded = StepResult(
        "physical.links", "physical", "links", "pass",
        observations=(
            Observation("link.list", str(HOST), OK, rows=links()[:3]),
            Observation("link.list", str(GUEST), ERROR, reason="guest agent timed out"),
        ),
    )
    # Replay is a Session built from the record: the screen asks it as it asks a live one.
    from vnetdoctor.knowledge import observer
    from vnetdoctor.knowledge.replay import ReplayEngine
    from vnetdoctor.session import Session
    from vnetdoctor.tui.screens import tables

    session = Session(request, lambda req, ask, emit: ReplayEngine(request, [recorded], on_event=emit))
    state = SessionState(request=request, engine=session.engine, session=session, replay=True)
    runner = FakeRunner(standard_answers())

    def no_probe(*args: object, **kwargs: object) -> None:
        runner.calls.append(args)  # a probe run in a replay: the assertion below fails
        raise AssertionError("a replay ran a probe")

    monkeypatch.setattr(observer, "run_probe", no_probe)
    monkeypatch.setattr(tables, "run_probe", no_probe)
    app = views_app(lambda: TablesScreen(state), state.lang)  # no runner injected: the session's
    async with app.run_test(size=(80, 24)) as pilot:
        table = await _loaded(pilot)
        assert table.row_keys == ["host|lo", "host|br0", "host|vnet0"]
        assert "recorded" in _title(app)
        await pilot.press("r", "a")
        await pilot.press("2")
        await _loaded(pilot, "addresses")
        view = _screen(app).query_one("#tv-addresses", TableView)
        reason = str(view.query_one(".reason", Static).render())
        assert "addresses: not recorded in this session" in reason and "addr.list" not in reason
        assert runner.calls == [] and not _screen(app).auto


@pytest.mark.parametrize(
    ("lang", "said"),
    [("en", "firewall: the probe returned no rows"), ("zh", "防火墙：探测没有返回任何行")],
)
async def test_an_empty_table_is_named_as_its_tab_names_it(lang: str, said: str) -> None:
    """No rows on either side: the line under the table names the table, not the probe id."""
    runner = FakeRunner({("firewall.rules", str(HOST)): (), ("firewall.rules", str(GUEST)): ()})
    app = _app(runner, live_state(lang=lang), initial="firewall")
    async with app.run_test(size=(80, 24)) as pilot:
        table = await _loaded(pilot, "firewall")
        assert table.row_count == 0
        reason = str(_screen(app).query_one("#tv-firewall", TableView).query_one(".reason", Static).render())
        assert reason == said and "firewall.rules" not in reason


async def test_esc_goes_back_and_chinese_labels() -> None:
    state = live_state(lang="zh")
    app = _app(FakeRunner(standard_answers()), state)
    async with app.run_test(size=(80, 24)) as pilot:
        await _loaded(pilot)
        assert _title(app).startswith("链路 · 宿主机 34 · 虚拟机 2")
        assert all(b.id and b.id.startswith("tables.") for b in TablesScreen.BINDINGS)  # type: ignore[union-attr]
        await pilot.press("escape")
        assert not isinstance(app.screen, TablesScreen)


async def test_help_lists_the_table_bindings() -> None:
    from vnetdoctor.tui.screens.help import HelpScreen

    app = _app(FakeRunner(standard_answers()))
    async with app.run_test(size=(80, 24)) as pilot:
        await _loaded(pilot)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        keys = {desc: key for key, desc in app.screen.keys}
        assert keys["filter"] == "/" and keys["sort"] == "s" and keys["refresh"] == "r"
        assert keys["auto"] == "a" and keys["side"] == "v" and keys["back"] == "esc"


async def test_minus_reaches_the_eleventh_table_and_plain_terminals_render(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TERM", "linux")
    monkeypatch.setenv("NO_COLOR", "1")
    app = _app(FakeRunner(standard_answers()))
    assert app.no_color
    async with app.run_test(size=(80, 24)) as pilot:
        await _loaded(pilot)
        await pilot.press("minus")
        assert _screen(app).current == "leases"
        await _loaded(pilot, "leases")
        svg = app.export_screenshot()
    assert "leases" in svg and "needs&#160;the&#160;libvirt&#160;daemon" in svg


async def test_a_crashing_load_ends_with_its_reason_and_does_not_block_refresh() -> None:
    from vnetdoctor.tui.table_sources import SOURCE_BY_ID

    class Exploding(tuple):  # a source definition bug: the worker raises, not a probe
        def __contains__(self, item: object) -> bool:
            raise RuntimeError("bad source\nsecond line")

    broken = dataclasses.replace(SOURCE_BY_ID["links"], sides=Exploding(("host",)))
    runner = FakeRunner(standard_answers())
    app = views_app(lambda: TablesScreen(live_state(), runner=runner, sources=[broken]))
    async with app.run_test(size=(80, 24)) as pilot:
        await _loaded(pilot)
        view = _screen(app).query_one("#tv-links", TableView)
        reason = str(view.query_one(".reason", Static).render())
        assert reason == "host: error: RuntimeError: bad source" and view.has_class("-empty")
        assert _screen(app)._refresh("links")  # not stuck "loading"


@pytest.mark.slow  # over 5 s on a loaded 2-core machine
async def test_clicking_a_table_name_switches_to_it() -> None:
    from vnetdoctor.tui.screens.tables import TableTabs

    app = _app(FakeRunner(standard_answers()))
    async with app.run_test(size=(80, 24)) as pilot:
        await _loaded(pilot)
        tabs = _screen(app).query_one(TableTabs)
        start = next(x for x, _, i in tabs._spans if i == 2)
        await pilot.click(tabs, offset=(start + 2, 0))
        assert _screen(app).current == "routes" and tabs.active == 2


async def test_the_palette_offers_this_screen_keys_and_each_table_by_name() -> None:
    app = _app(FakeRunner(standard_answers()))
    async with app.run_test(size=(80, 24)) as pilot:
        await _loaded(pilot)
        screen = _screen(app)
        names = [c.name for c in screen.palette_commands()]
        assert {"filter", "sort", "refresh", "auto", "back"} <= set(names)
        assert "table" not in names and "show table: leases" in names
        next(c for c in screen.palette_commands() if c.name == "show table: firewall").callback()
        assert screen.current == "firewall"


async def test_a_firewall_reload_with_new_handles_and_counters_updates_the_rule_in_place() -> None:
    runner = FakeRunner(standard_answers())
    app = _app(runner)
    async with app.run_test(size=(80, 24)) as pilot:
        await _loaded(pilot)
        await pilot.press("7")
        table = await _loaded(pilot, "firewall")
        keys_before = table.row_keys
        rows_before = dict(table.rows)
        policy, rule = FIREWALL
        reloaded = dataclasses.replace(rule, handle=17, packets=9, bytes=756)
        runner.answers[("firewall.rules", str(HOST))] = (policy, reloaded)
        await pilot.press("r")
        await wait_until(pilot, lambda: runner.calls.count(("firewall.rules", str(HOST))) == 2)
        table = await _loaded(pilot, "firewall")
        stats = table.last_sync
        assert (stats.added, stats.removed, stats.updated_cells) == (0, 0, 1)  # the packets cell
        assert table.row_keys == keys_before
        assert all(table.rows[k] is row for k, row in rows_before.items())  # the same Row objects
        key = "host|nftables|inet|filter|input|ip saddr 198.18.0.1 icmp type echo-request drop"
        assert str(table.get_cell(key, "packets")) == "9"
