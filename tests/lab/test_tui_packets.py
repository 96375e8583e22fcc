"""The Packets screen on a real capture: two namespaces joined by a veth pair (root only).

Everything lives in namespaces this test creates (prefix ``vnd-tpk<pid>-``,
addresses in 198.18.0.0/15) and is removed in ``finally``. Pings are sent by the
real ``icmp.echo`` probe from the "host" namespace; the screen's real Capture
listens on both ends of the veth.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator

import pytest
from tests.tui.support.views import views_app
from tests.tui.support.waiting import wait_until
from textual.widgets import Input
from vnetdoctor.knowledge.model import Request
from vnetdoctor.probes.base import run_probe
from vnetdoctor.probes.vantage import Vantage
from vnetdoctor.tui.screens.packets import PacketsScreen
from vnetdoctor.tui.state import SessionState
from vnetdoctor.tui.widgets.packet_list import PacketList
from vnetdoctor.tui.widgets.path_view import PathView

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create network namespaces"),
]

PREFIX = f"vnd-tpk{os.getpid()}-"
HOST_NS, GUEST_NS = PREFIX + "h", PREFIX + "g"
HOST_IP, GUEST_IP = "198.18.250.1", "198.18.250.2"


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=10)


@pytest.fixture
def veth_pair() -> Iterator[tuple[Vantage, Vantage]]:
    made: list[str] = []
    try:
        for ns in (HOST_NS, GUEST_NS):
            _ip("netns", "add", ns)
            made.append(ns)
        _ip("-n", HOST_NS, "link", "add", "vph", "type", "veth", "peer", "name", "vpg", "netns", GUEST_NS)
        for ns, dev, addr in ((HOST_NS, "vph", HOST_IP), (GUEST_NS, "vpg", GUEST_IP)):
            _ip("-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "link", "set", dev, "up")
        yield Vantage("netns", HOST_NS), Vantage("netns", GUEST_NS)
    finally:
        for ns in made:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10, check=False)


def _verdict(view: PathView, ident: int) -> str:
    for v in view.last_verdicts:
        if v.flow == f"icmp:{ident}":
            return v.kind
    return ""


async def test_real_capture_sees_pings_and_where_replies_stop(veth_pair: tuple[Vantage, Vantage]) -> None:
    host, guest = veth_pair
    state = SessionState(
        request=Request(target=GUEST_IP, host=host, guest=guest),
        path_ifaces=[(host, "vph"), (guest, "vpg")],
    )
    app = views_app(lambda: PacketsScreen(state))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, PacketsScreen)
        await wait_until(pilot, lambda: screen.mode == "live", timeout=10, what="the capture to open")
        assert screen.failed == {}
        view = screen.query_one(PathView)
        plist = screen.query_one(PacketList)

        obs = await asyncio.to_thread(run_probe, "icmp.echo", host, dst=GUEST_IP, count=2, timeout=1.0,
                                      ident=4101)
        assert obs.ok, obs.reason
        await wait_until(pilot, lambda: _verdict(view, 4101) == "ok", timeout=10, what="both echoes on both ends")
        echoes = [p for p in plist.packets if p.tag.startswith("icmp:4101:")]
        assert {(p.iface, "reply" in p.summary) for p in echoes} == {
            ("vph", False), ("vpg", False), ("vpg", True), ("vph", True)}

        # The guest stops answering: the request still reaches vpg, no reply is sent.
        await asyncio.to_thread(
            subprocess.run, ["ip", "netns", "exec", GUEST_NS, "sysctl", "-qw", "net.ipv4.icmp_echo_ignore_all=1"],
            check=True, timeout=10,
        )
        await asyncio.to_thread(run_probe, "icmp.echo", host, dst=GUEST_IP, count=1, timeout=0.5, ident=4102)
        await wait_until(pilot, lambda: _verdict(view, 4102) == "no_reply", timeout=10, what="the missing reply")
        v = next(v for v in view.last_verdicts if v.flow == "icmp:4102")
        assert v.seen_at == (str(guest), "vpg")

        # A filter libpcap rejects leaves the capture running.
        await pilot.press("slash")
        screen.query_one("#pk-filter", Input).value = "icmp and nonsense("
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.filter_error != "", timeout=10, what="the filter error")
        assert screen.bpf == "icmp or arp" and screen.mode == "live"
        before = len(plist.packets)
        await asyncio.to_thread(run_probe, "icmp.echo", host, dst=GUEST_IP, count=1, timeout=0.3, ident=4103)
        await wait_until(pilot, lambda: len(plist.packets) > before, timeout=10, what="packets after the bad filter")
