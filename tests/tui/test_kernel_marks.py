"""The kernel's word in the Packets screen's path view and packet detail (pure data)."""

from __future__ import annotations

import dataclasses

from tests.unit.support.kernel_traces import (
    follow,  # recorded traces, shared with the probe's tests
)
from vnetdoctor.probes.base import Observation
from vnetdoctor.tui.widgets.kernel_marks import kernel_marks


def text(key: str, **values: object) -> str:
    return key + ":" + ",".join(f"{k}={v}" for k, v in sorted(values.items()))


def marks_for(name: str, idents: dict[str, int]):  # type: ignore[no-untyped-def]
    rows = tuple(dataclasses.replace(r, ident=idents.get(r.probe, 0)) for r in follow(name).rows)
    return kernel_marks([Observation("kernel.drops", "netns:vnd-host", rows=rows)])


def test_the_dropped_flow_gets_a_kernel_cell_and_a_line() -> None:
    marks = marks_for("firewall_guest_blocks", {"forward": 4242, "reverse": 4242 + 0x8000})
    assert marks.cells("icmp:4242", "req") == ["✗ NETFILTER_DROP"]
    assert marks.cells(f"icmp:{4242 + 0x8000}", "req") == ["✓ icmp_rcv"]
    assert marks.cells("icmp:1", "req") == [""]  # a flow the kernel did not follow: an empty cell
    lines = marks.lines(["icmp:4242"], text)
    assert lines and "function=nft_do_chain" in lines[0] and "reason=NETFILTER_DROP" in lines[0]
    assert "dev=eth0" in lines[0] and "side=views.side.guest:" in lines[0]  # the side in the operator's words


def test_the_packet_detail_has_the_drop_event() -> None:
    marks = marks_for("firewall_guest_blocks", {"forward": 4242})
    branches = marks.layer("icmp:4242:2", text)
    fields = dict(branches[0][1])
    assert fields["verdict"] == "drop" and fields["reason"] == "NETFILTER_DROP"
    assert fields["location"].startswith("nft_do_chain+") and fields["last_dev"] == "eth0 (views.side.guest:, in)"
    assert fields["devices"] == "hop.host:iface=br0, hop.host:iface=vnet0, hop.guest:iface=eth0"
    assert marks.layer("arp:198.18.0.11", text) == []


def test_no_watch_no_column() -> None:
    marks = kernel_marks([Observation("kernel.drops", "netns:vnd-host", status="skipped", reason="needs root")])
    assert not marks and marks.cells("icmp:1", "req") == [] and marks.lines(["icmp:1"], text) == []


def test_rows_read_back_as_fields_still_mark() -> None:
    """A replay may read the record before the row type is imported: the fields still count."""
    rows = tuple(dict(dataclasses.asdict(dataclasses.replace(r, ident=7)))
                 for r in follow("firewall_guest_blocks").rows if r.probe == "forward")
    marks = kernel_marks([Observation("kernel.drops", "netns:vnd-host", rows=rows)])
    assert marks.cells("icmp:7", "req") == ["✗ NETFILTER_DROP"]


def test_a_decoded_echo_request_finds_its_flow_by_icmp_id() -> None:
    marks = marks_for("firewall_guest_blocks", {"forward": 5833})
    layers = [("Ethernet", [("type", "IPv4")]), ("IP", [("len", "246")]),
              ("ICMP", [("type", "echo-request"), ("id", "0x16c9"), ("seq", "0x1")])]
    branches = marks.for_layers(layers, text)
    assert len(branches) == 1 and dict(branches[0][1])["reason"] == "NETFILTER_DROP"
    reply = [("ICMP", [("type", "echo-reply"), ("id", "0x16c9")])]
    assert marks.for_layers(reply, text) == []  # the kernel said nothing about replies of this flow
    assert marks.for_layers([("ARP", [("op", "who-has")])], text) == []


async def test_the_packets_screen_shows_the_kernel_column_and_line() -> None:
    """The real screen, a fake engine whose walk recorded a kernel.drops observation."""
    from tests.tui.support.views import shown_text
    from tests.tui.support.waiting import wait_until
    from textual.widgets import Static

    from vnetdoctor.tui.widgets.path_view import PathView

    app = _kernel_packets_app()
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.screen.query_one(PathView)
        await wait_until(pilot, lambda: bool(view.kernel), what="the kernel marks")
        await pilot.pause()
        shown = shown_text(view.query_one(Static))
        assert "kernel" in shown and "✗ NETFILTER_DROP" in shown
        assert "the kernel dropped it in nft_do_chain (NETFILTER_DROP) after eth0 (guest)" in shown


def test_the_marks_are_ascii_on_the_linux_console(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from vnetdoctor.tui.glyphs import ENV

    monkeypatch.setenv(ENV, "")
    monkeypatch.setenv("TERM", "linux")
    marks = marks_for("firewall_guest_blocks", {"forward": 4242, "reverse": 4242 + 0x8000})
    assert marks.cells("icmp:4242", "req") == ["[X] NETFILTER_DROP"]
    assert marks.cells(f"icmp:{4242 + 0x8000}", "req") == ["[ok] icmp_rcv"]


def _kernel_packets_app(lang: str = "en"):  # type: ignore[no-untyped-def]
    """The Packets screen of a recorded walk whose kernel watch saw the guest's firewall drop."""
    from tests.tui.support.engine import HOST, PATH, FakeEngine
    from tests.tui.support.views import CaptureFactory, capture_step, lost_at_guest, make_request, views_app

    from vnetdoctor.tui.screens.packets import PacketsScreen
    from vnetdoctor.tui.state import SessionState

    rows = tuple(dataclasses.replace(r, ident=4242) for r in follow("firewall_guest_blocks").rows
                 if r.probe == "forward")
    step = capture_step(lost_at_guest(ident=4242))
    step = dataclasses.replace(step, observations=(*step.observations,
                                                   Observation("kernel.drops", str(HOST), rows=rows)))
    request = make_request()
    state = SessionState(request=request, engine=FakeEngine.recorded(request, [step], points=PATH), replay=True)
    return views_app(lambda: PacketsScreen(state, capture_factory=CaptureFactory(), capture_blocked=lambda: None),
                     lang)


def test_kernel_marks_ascii_snapshot(snap_compare, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """TERM=linux at 80x24: the path view's kernel column says [X] where the kernel dropped it."""
    from tests.tui.support.waiting import wait_until

    from vnetdoctor.tui.glyphs import ENV
    from vnetdoctor.tui.widgets.path_view import PathView

    monkeypatch.setenv(ENV, "")
    monkeypatch.setenv("TERM", "linux")

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        view = pilot.app.screen.query_one(PathView)
        await wait_until(pilot, lambda: bool(view.kernel), what="the kernel marks")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(_kernel_packets_app(), terminal_size=(80, 24), run_before=run_before)
