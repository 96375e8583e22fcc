"""Pilot tests of the Packets screen with an injected fake capture and a fake engine."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Static, Tree

from tests.tui.support.engine import GUEST, HOST, PATH, FakeEngine
from tests.tui.support.views import (
    CaptureFactory,
    icmp_frame,
    live_state,
    lost_at_guest,
    make_request,
    packet,
    recorded_state,
    round_trip,
    shown_text,
    views_app,
)
from tests.tui.support.waiting import wait_until
from vnetdoctor.probes.rows_active import CaptureFailure
from vnetdoctor.probes.pcapng import read_pcapng
from vnetdoctor.tui.app import VnetDoctorApp
from vnetdoctor.tui.screens.packets import PacketsScreen
from vnetdoctor.tui.screens.packets_save import SaveDialog
from vnetdoctor.tui.state import SessionState
from vnetdoctor.tui.widgets.packet_detail import HexView
from vnetdoctor.tui.widgets.packet_list import PacketList
from vnetdoctor.tui.widgets.path_view import PathView
from vnetdoctor.tui.widgets.title_bar import TitleBar


def _app(state: SessionState, factory: CaptureFactory | None = None, **kw: object) -> VnetDoctorApp:
    factory = factory or CaptureFactory()
    return views_app(lambda: PacketsScreen(state, capture_factory=factory, capture_blocked=lambda: None,
                                          drain_interval=0.02, **kw), state.lang)


def _screen(app: VnetDoctorApp) -> PacketsScreen:
    assert isinstance(app.screen, PacketsScreen)
    return app.screen


def _title(app: VnetDoctorApp) -> str:
    return str(_screen(app).query_one(TitleBar).query_one("#title-left", Static).render())


async def _live(pilot, factory: CaptureFactory) -> PacketsScreen:  # type: ignore[no-untyped-def]
    screen = _screen(pilot.app)
    await wait_until(pilot, lambda: screen.mode == "live", what="the capture to open")
    return screen


async def test_packets_arriving_update_the_list_in_batches() -> None:
    factory = CaptureFactory()
    app = _app(live_state(), factory)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _live(pilot, factory)
        cap = factory.running()
        assert cap.points == PATH and cap.bpf == "icmp or arp"
        plist = screen.query_one(PacketList)
        notes = screen.query_one("#pk-notes", Static)
        # Nothing yet: the screen says where it listens instead of an empty list that looks hung.
        assert str(notes.render()) == "waiting for packets on br0 (host), vnet0 (host), eth0 (guest)…"
        assert notes.has_class("-shown")
        cap.push(round_trip(7, 1, 0.5))
        await wait_until(pilot, lambda: plist.row_count == 6, what="6 packets")
        assert not notes.has_class("-shown")
        cap.push(round_trip(7, 2, 1.5) + round_trip(7, 3, 2.5))
        await wait_until(pilot, lambda: plist.row_count == 18, what="18 packets")
        assert plist.packets[-1].summary.startswith("in  ICMP 198.18.0.11 > 198.18.0.1 echo-reply")
        assert plist.cursor_row == 17  # following the newest
        assert "18" in _title(app) and "live" in _title(app)
        path = screen.query_one(PathView)
        assert [v.kind for v in path.last_verdicts] == ["ok"]


async def test_selecting_a_packet_shows_its_layers_and_hex() -> None:
    rows = lost_at_guest()
    app = views_app(lambda: PacketsScreen(recorded_state(rows)))
    async with app.run_test(size=(160, 48)) as pilot:
        screen = _screen(app)
        plist = screen.query_one(PacketList)
        await wait_until(pilot, lambda: plist.row_count == len(rows), what="recorded packets")
        plist.focus()
        await pilot.press("down", "down", "down", "down", "down", "down", "down")  # the first echo request
        assert "echo-request" in plist.selected().summary  # type: ignore[union-attr]
        tree = screen.query_one(Tree)
        await wait_until(pilot, lambda: any("ICMP" in str(n.label) for n in tree.root.children),
                       timeout=15, what="the decoded layers")
        names = [str(n.label).split()[0] for n in tree.root.children]
        assert names[:3] == ["Ethernet", "IP", "ICMP"]
        ip = tree.root.children[1]
        assert "198.18.0.1 > 198.18.0.11" in str(ip.label)
        assert any(str(leaf.label) == "ttl = 64" for leaf in ip.children)
        hex_text = str(screen.query_one(HexView).query_one(Static).render())
        assert hex_text.startswith("0000  02 00 00 00 00 02 02 00 00 00 00 01 08 00 45 00")


async def test_enter_on_a_packet_switches_the_narrow_pane_to_layers() -> None:
    app = views_app(lambda: PacketsScreen(recorded_state(lost_at_guest())))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = _screen(app)
        await wait_until(pilot, lambda: screen.query_one(PacketList).row_count > 0)
        assert screen.pane == "path" and screen.has_class("-narrow")
        assert not screen.query_one("#pk-layers").display or not screen.query_one("#pk-layers").region
        await pilot.press("enter")
        assert screen.pane == "layers"
        await pilot.press("escape")  # Enter also opened the packet in full (test_detail_view)
        assert app.screen is screen
        await pilot.press("x")
        assert screen.pane == "hex"
        await pilot.pause()
        assert screen.query_one(HexView).region.height > 0


async def test_a_bad_filter_shows_the_error_and_keeps_the_old_capture() -> None:
    factory = CaptureFactory()
    app = _app(live_state(), factory)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _live(pilot, factory)
        first = factory.running()
        await pilot.press("slash")
        flt = screen.query_one("#pk-filter", Input)
        assert flt.has_focus
        flt.value = "icmp and bogus"
        await pilot.press("enter")
        error = screen.query_one("#pk-filter-error", Static)
        await wait_until(pilot, lambda: screen.filter_error != "", what="the filter error")
        assert "bad capture filter" in str(error.render()) and error.display
        assert "\n" not in screen.filter_error
        assert factory.running() is first and not first.stopped.is_set()
        assert screen.bpf == "icmp or arp"
        first.push(round_trip(3, 1, 0.1))
        plist = screen.query_one(PacketList)
        await wait_until(pilot, lambda: plist.row_count == 6, what="packets from the old capture")
        # A good filter replaces the capture and clears the error.
        await pilot.press("slash")
        flt.value = "icmp"
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.bpf == "icmp", what="the new filter")
        await wait_until(pilot, lambda: first.stopped.is_set(), what="the old capture to stop")
        assert factory.running().bpf == "icmp" and not error.display
        assert "icmp" in _title(app)


async def test_the_path_view_marks_where_the_request_vanished() -> None:
    app = views_app(lambda: PacketsScreen(recorded_state(lost_at_guest())))
    async with app.run_test(size=(80, 24)) as pilot:
        view = _screen(app).query_one(PathView)
        await wait_until(pilot, lambda: bool(view.last_verdicts), what="the path verdicts")
        echo = next(v for v in view.last_verdicts if v.flow == "icmp:4242")
        assert echo.kind == "lost_request"
        line = view.verdict_line(echo)
        assert line == "icmp 4242: request seen on vnet0 (host), never on eth0 (guest)"
        shown = shown_text(view.query_one(Static))
        assert line in shown and "✓" in shown and "·" in shown


async def test_save_writes_pcapng_with_a_named_interface_per_point(tmp_path: Path) -> None:
    rows = lost_at_guest()
    app = views_app(lambda: PacketsScreen(recorded_state(rows), save_dir=str(tmp_path)))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = _screen(app)
        await wait_until(pilot, lambda: screen.query_one(PacketList).row_count == len(rows))
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, SaveDialog), what="the save dialog")
        name = app.screen.query_one(Input)
        assert name.value == str(tmp_path / "vnetdoctor-s-test.pcapng")
        await pilot.press("enter")
        target = tmp_path / "vnetdoctor-s-test.pcapng"
        await wait_until(pilot, lambda: "saved" in screen.last_message, what="the save")
        assert f"saved {len(rows)} packets to {target}" in _title(app)
    frames = read_pcapng(target.read_bytes())
    ordered = sorted(rows, key=lambda r: r.time)
    assert [f.data for f in frames] == [bytes.fromhex(r.data_hex) for r in ordered]
    sides = {str(HOST): "host", str(GUEST): "guest"}
    assert [f.interface.name for f in frames] == [f"{sides[r.vantage]}:{r.iface}" for r in ordered]
    assert {f.interface.name for f in frames} >= {"host:vnet0", "guest:eth0"}


async def test_save_to_an_unwritable_place_says_why_in_one_line(tmp_path: Path) -> None:
    app = views_app(lambda: PacketsScreen(recorded_state(lost_at_guest()), save_dir=str(tmp_path)))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = _screen(app)
        await wait_until(pilot, lambda: screen.query_one(PacketList).row_count > 0)
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, SaveDialog))
        app.screen.query_one(Input).value = str(tmp_path / "no" / "such" / "dir.pcap")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "could not save" in screen.last_message)
        assert "No such file or directory" in screen.last_message and "\n" not in screen.last_message


async def test_esc_in_the_save_dialog_cancels(tmp_path: Path) -> None:
    app = views_app(lambda: PacketsScreen(recorded_state(lost_at_guest()), save_dir=str(tmp_path)))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, SaveDialog))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, PacketsScreen))
    assert list(tmp_path.iterdir()) == []


async def test_without_cap_net_raw_a_clear_line_replaces_the_capture() -> None:
    factory = CaptureFactory()
    state = live_state()
    app = views_app(lambda: PacketsScreen(state, capture_factory=factory,
                                         capture_blocked=lambda: "needs CAP_NET_RAW"))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = _screen(app)
        await wait_until(pilot, lambda: screen.mode == "blocked", what="the blocked state")
        notes = str(screen.query_one("#pk-notes", Static).render())
        assert "needs CAP_NET_RAW" in notes and "root" in notes
        assert "no live capture: needs CAP_NET_RAW" in _title(app)
        assert factory.made == []


async def test_points_that_could_not_open_are_listed_with_the_reason() -> None:
    request = make_request()
    points = [*PATH[:2], (GUEST, "missing0")]
    state = SessionState(request=request, engine=FakeEngine(request, points=points))
    factory = CaptureFactory()
    app = _app(state, factory)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _live(pilot, factory)
        notes = str(screen.query_one("#pk-notes", Static).render())
        assert notes == ("skipped: missing0@netns:vnd-guest: No such device\n"
                         "waiting for packets on br0 (host), vnet0 (host)…")  # the opened ones only
        assert "live · 2 ifaces" in _title(app)
        factory.running().push(lost_at_guest())
        view = screen.query_one(PathView)
        await wait_until(pilot, lambda: bool(view.last_verdicts))
        assert "?" in shown_text(view.query_one(Static))


async def test_pause_holds_packets_and_resume_shows_them_clear_empties() -> None:
    factory = CaptureFactory()
    app = _app(live_state(), factory)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _live(pilot, factory)
        plist = screen.query_one(PacketList)
        await pilot.press("space")
        assert screen.paused
        factory.running().push(round_trip(1, 1, 0.0))
        feed = screen.feed
        assert feed is not None
        await wait_until(pilot, lambda: feed.waiting() == 6, what="packets held while paused")
        await wait_until(pilot, lambda: "6 waiting" in _title(app), what="the paused status")
        assert plist.row_count == 0
        await pilot.press("space")
        assert plist.row_count == 6 and not screen.paused
        await pilot.press("ctrl+l")
        assert plist.row_count == 0 and plist.packets == []
        assert not screen.query_one(PathView).last_verdicts


async def test_replay_shows_the_recorded_packets_and_never_captures() -> None:
    factory = CaptureFactory()
    rows = lost_at_guest()
    state = recorded_state(rows, failed=(CaptureFailure("netns:vnd-guest", "eth1", "No such device"),))
    app = _app(state, factory)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = _screen(app)
        await wait_until(pilot, lambda: screen.mode == "recorded")
        assert screen.query_one(PacketList).row_count == len(rows)
        # The input filters what is shown (test_detail_view); the recording's BPF is not re-run.
        assert screen.query_one("#pk-filter", Input).value == "" and screen.bpf == "icmp or arp"
        assert "skipped: eth1@netns:vnd-guest" in str(screen.query_one("#pk-notes", Static).render())
        await pilot.press("c", "space")  # no live capture, no pause in a replay
        await pilot.pause()
        assert factory.made == [] and screen.mode == "recorded"


async def test_walk_packets_are_shown_and_c_starts_a_live_capture() -> None:
    factory = CaptureFactory()
    state = recorded_state(lost_at_guest(), replay=False)
    app = _app(state, factory)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = _screen(app)
        await wait_until(pilot, lambda: screen.mode == "recorded")
        await pilot.press("c")
        await wait_until(pilot, lambda: screen.mode == "live", what="the live capture")
        assert screen.query_one(PacketList).row_count == 0
        assert not screen.query_one("#pk-filter", Input).disabled
        factory.running().push([packet(icmp_frame("198.18.0.1", "198.18.0.11", 1, 1), 0.0, HOST, "br0")])
        await wait_until(pilot, lambda: screen.query_one(PacketList).row_count == 1)


async def test_leaving_the_screen_stops_the_capture_and_esc_goes_back() -> None:
    factory = CaptureFactory()
    app = _app(live_state(), factory)
    async with app.run_test(size=(80, 24)) as pilot:
        await _live(pilot, factory)
        cap = factory.running()
        await pilot.press("escape")
        assert not isinstance(app.screen, PacketsScreen)
        await wait_until(pilot, lambda: cap.stopped.is_set(), what="the capture to stop")


async def test_help_lists_the_screen_bindings() -> None:
    from vnetdoctor.tui.screens.help import HelpScreen

    app = views_app(lambda: PacketsScreen(recorded_state(lost_at_guest(), replay=False)))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: _screen(app).mode == "recorded")
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        keys = {desc: key for key, desc in app.screen.keys}
        assert keys["save"] == "s" and keys["back"] == "esc" and keys["live"] == "c"
        assert keys["layers"] == "l" and keys["hex"] == "x" and keys["path"] == "p"


async def test_bindings_have_ids_and_chinese_descriptions() -> None:
    app = views_app(lambda: PacketsScreen(recorded_state(lost_at_guest(), lang="zh")), "zh")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = _screen(app)
        await wait_until(pilot, lambda: screen.mode == "recorded")
        assert all(b.id and b.id.startswith("packets.") for b in PacketsScreen.BINDINGS)  # type: ignore[union-attr]
        bindings = [b for bs in screen._bindings.key_to_bindings.values() for b in bs]
        assert {b.description for b in bindings} >= {"返回", "保存", "分层"}
        assert "数据包" in _title(app)
        verdicts = screen.query_one(PathView)
        line = verdicts.verdict_line(next(v for v in verdicts.last_verdicts if v.flow == "icmp:4242"))
        assert line == "icmp 4242：请求在 vnet0（宿主机） 上看到，在 eth0（虚拟机） 上从未出现"


async def test_plain_terminals_still_show_the_verdict_and_the_marks(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TERM", "linux")
    monkeypatch.setenv("NO_COLOR", "1")
    app = views_app(lambda: PacketsScreen(recorded_state(lost_at_guest())))
    assert app.no_color
    async with app.run_test(size=(80, 24)) as pilot:
        view = _screen(app).query_one(PathView)
        await wait_until(pilot, lambda: bool(view.last_verdicts))
        await pilot.pause()
        svg = app.export_screenshot()
    assert "never&#160;on&#160;eth0" in svg or "never on eth0" in svg
    # The Linux console's font has no ✓ or ·: the path view marks in ASCII (+ seen, . not seen).
    assert "✓" not in svg and "→" not in svg
    assert "-&gt;" in svg  # the request's arrow in the path view


async def test_a_crashing_worker_is_reported_in_one_line() -> None:
    class BrokenObservation:
        probe = "capture.path"

        @property
        def rows(self) -> tuple[()]:
            raise RuntimeError("broken record\nmore")

    class BrokenResult:
        observations = (BrokenObservation(),)

    request = make_request()
    engine = FakeEngine(request, points=PATH)
    engine._results = {"symptom.ping": BrokenResult()}  # type: ignore[dict-item]
    app = views_app(lambda: PacketsScreen(SessionState(request=request, engine=engine)))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = _screen(app)
        await wait_until(pilot, lambda: screen.mode == "failed", what="the failure")
        assert "internal error: RuntimeError: broken record" in _title(app)


async def test_the_list_stops_at_its_limit_and_says_how_many_were_left_out() -> None:
    factory = CaptureFactory()
    app = _app(live_state(), factory, max_packets=10)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _live(pilot, factory)
        factory.running().push(round_trip(1, 1, 0.0) + round_trip(1, 2, 0.1))
        await wait_until(pilot, lambda: screen.not_listed == 2, what="the overflow count")
        assert screen.query_one(PacketList).row_count == 10
        assert "2 more not listed (limit 10; ctrl+l clears)" in _title(app)
        await pilot.press("ctrl+l")
        assert screen.not_listed == 0


async def test_the_palette_offers_only_the_keys_that_work_here() -> None:
    from vnetdoctor.tui.screens.commands import binding_commands

    app = views_app(lambda: PacketsScreen(recorded_state(lost_at_guest())))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = _screen(app)
        await wait_until(pilot, lambda: screen.mode == "recorded")
        names = {c.name for c in binding_commands(screen)}
        assert {"save", "back", "layers"} <= names
        assert "pause" not in names and "live" not in names  # a replay: no capture
