"""The kernel's word on the faults the symptom's pings do not meet: an asymmetric path
(IP_RPFILTER on the echo reply), a lost DF ping (``__dev_forward_skb2``) and a refused
TCP port (NO_SOCKET), from traces recorded in the lab; and the confirm window the MTU
and TCP checks send their extra probe packets through.
"""

from __future__ import annotations

import json
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest

from tests.unit.support.kernel_traces import DATA
from vnetdoctor.knowledge import kernel_window
from vnetdoctor.knowledge.checks_kernel import PMTU, SYN, explains, kernel_rows
from vnetdoctor.knowledge.path import Hop, Path
from vnetdoctor.probes.base import Observation
from vnetdoctor.probes.kernel_drops_parse import DROP, Follower, KernelDevice, KernelDropRow, ProbeLength, packet_verdicts, parse
from vnetdoctor.probes.vantage import parse_vantage


def _verdicts(name: str) -> dict[tuple[str, str], KernelDropRow]:
    meta = json.loads((DATA / f"{name}.json").read_text())
    hops = [tuple(h.split(":", 1)) for h in meta["path"]]
    extra = [tuple(h.split(":", 1)) for h in meta["extra"]]
    probes = [ProbeLength(int(n), probe, side) for n, probe, side in meta["probes"]]
    follower = Follower(probes, hops, extra)
    follower.feed(parse((DATA / f"{name}.trace").read_text()))
    return packet_verdicts(follower.rows)


def test_an_echo_reply_back_on_the_other_nic_is_dropped_by_rp_filter() -> None:
    got = _verdicts("route_rp_filter")[("forward", "reply")]
    assert (got.verdict, got.reason, got.function, got.side, got.last_dev) == (
        DROP, "IP_RPFILTER", "ip_rcv_finish_core", "host", "eth1")
    assert explains("route.rp_filter", got, {}) and not explains("firewall.host_blocks", got, {})


def test_a_lost_df_ping_is_dropped_where_the_veth_peer_has_the_smaller_mtu() -> None:
    got = _verdicts("mtu_mismatch_pmtu")[(PMTU, "request")]
    assert (got.verdict, got.reason, got.function, got.side, got.last_dev, got.direction) == (
        DROP, "NOT_SPECIFIED", "__dev_forward_skb2", "host", "vnet0", "out")
    assert explains("mtu.mismatch", got, {}) and not explains("link.host_if_down", got, {})


def test_a_syn_to_a_closed_port_is_dropped_with_no_socket_in_the_guest() -> None:
    got = _verdicts("tcp_port_closed_syn")[(SYN, "request")]
    assert (got.verdict, got.reason, got.function, got.side) == (DROP, "NO_SOCKET", "tcp_v4_rcv", "guest")
    assert explains("tcp.port_closed", got, {}) and not explains("tcp.port_filtered", got, {})


def _row(probe: str, reason: str = "NO_SOCKET") -> KernelDropRow:
    return KernelDropRow(probe=probe, kind="request", length=300, verdict=DROP, reason=reason,
                         location="tcp_v4_rcv+0x99/0x1400", function="tcp_v4_rcv", devices=(KernelDevice("guest", "eth0"),),
                         last_dev="eth0", side="guest", at_ms=0.01)


def test_the_confirm_watches_join_the_symptoms_watch() -> None:
    def obs(*rows: KernelDropRow) -> Observation:
        return Observation(probe="kernel.drops", vantage="netns:x", rows=rows)

    trace = SimpleNamespace(kernel=(obs(_row("forward", "NETFILTER_DROP")),))
    facts: dict[str, Any] = {"trace": trace, "kernel_more": [obs(_row(SYN))]}
    assert [r.probe for r in kernel_rows(facts)] == ["forward", SYN]
    assert [r.probe for r in kernel_rows({"kernel_more": [obs(_row(SYN))]})] == [SYN]


class _Ctx:
    """What confirm() uses of a step: the request's flag, its records and facts."""

    def __init__(self, kernel_drops: bool = True) -> None:
        self.request = SimpleNamespace(kernel_drops=kernel_drops)
        self.facts: dict[str, Any] = {}
        self.recorded: list[Observation] = []
        self.optional_ids: list[str] = []

    def record(self, obs: Observation) -> None:
        self.recorded.append(obs)

    def optional(self, probe: str, vantage: object = None) -> None:
        self.optional_ids.append(probe)


class _FakeWatch:
    """Reports each probe packet dropped 20 ms after it is sent, as the reader thread would."""

    made: list[_FakeWatch] = []

    def __init__(self, probes: Any, path: Any, extra: Any, *, vantage: str, on_row: Any) -> None:
        self.probes, self.on_row, self.vantage = list(probes), on_row, vantage
        self.stopped = False
        _FakeWatch.made.append(self)

    def start(self) -> bool:
        return True

    def report(self, n: int) -> None:
        p = self.probes[0]
        for _ in range(n):
            time.sleep(0.02)
            self.on_row(KernelDropRow(probe=p.probe, kind="request", length=p.length, verdict=DROP,
                                      reason="NO_SOCKET", location="tcp_v4_rcv", function="tcp_v4_rcv",
                                      devices=(KernelDevice("guest", "eth0"),), last_dev="eth0", side="guest", at_ms=0.0))

    def stop(self, linger: float = 0.0) -> Observation:
        self.stopped = True
        return Observation(probe="kernel.drops", vantage=self.vantage)


PATH = Path("198.18.0.11", "host", hops=(Hop(parse_vantage("netns:vk-host"), "br0", "host", "bridge"),
                                         Hop(parse_vantage("netns:vk-guest"), "eth0", "guest", "nic")))


def test_confirm_stops_waiting_once_the_kernel_reported_every_packet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kernel_window, "KernelDropWatch", _FakeWatch)
    monkeypatch.setattr(kernel_window, "missing_needs", lambda needs: None)
    ctx = _Ctx()
    sent: list[int] = []

    def send() -> None:
        sent.append(1)
        threading.Thread(target=_FakeWatch.made[-1].report, args=(2,)).start()

    start = time.perf_counter()
    kernel_window.confirm(ctx, PATH, SYN, PATH.hops[0].vantage, 333, 2, send, timeout=5.0)  # type: ignore[arg-type]
    assert time.perf_counter() - start < 2.0  # ended by the kernel's word, not the 5 s timeout
    watch = _FakeWatch.made[-1]
    assert watch.stopped and sent and watch.probes[0].length == 333 and watch.probes[0].ident == 0
    assert [o.probe for o in ctx.recorded] == ["kernel.drops"] and ctx.facts["kernel_more"] == ctx.recorded
    assert ctx.optional_ids == ["kernel.drops"]


def test_confirm_sends_nothing_when_kernel_evidence_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kernel_window, "KernelDropWatch", _FakeWatch)
    ctx = _Ctx(kernel_drops=False)
    kernel_window.confirm(ctx, PATH, SYN, PATH.hops[0].vantage, 700, 2, lambda: pytest.fail("sent"))  # type: ignore[arg-type]
    assert ctx.recorded == [] and "kernel_more" not in ctx.facts


def test_confirm_lengths_avoid_every_default() -> None:
    import random

    rng = random.Random(1)
    picks = {kernel_window.confirm_length(1490, 1510, rng) for _ in range(400)}
    assert picks <= set(range(1490, 1511)) - {1500} and len(picks) > 10
    assert kernel_window.confirm_length(84, 84) == 84  # nothing else to choose: said as it is


def test_the_reader_picks_our_lines_in_order_and_skips_other_buffers_consumes() -> None:
    from vnetdoctor.probes.kernel_drops import pick

    chunk = (
        b"  a-1 [000] ..s1. 1.000001: consume_skb: skbaddr=00000000000000aa location=icmp_rcv+0x1/0x2\n"
        b"  a-1 [000] b.... 1.000002: net_dev_queue: dev=br0 skbaddr=00000000000000bb len=312\n"
        b"  a-1 [000] ..s1. 1.000003: consume_skb: skbaddr=00000000000000cc location=icmp_rcv+0x1/0x2\n"
        b"  a-1 [000] ..s1. 1.000004: consume_skb: skbaddr=00000000000000bb location=icmp_rcv+0x1/0x2\n"
        b"  a-1 [000] ..s1. 1.000005: consume_skb: skbaddr=00000000000000dd location=raw_recvmsg+0x1/0x2\n"
        b"  a-1 [000] ..s1. 1.000006: kfree_skb: skbaddr=00000000000000ee rx_sk=0 protocol=2048 "
        b"location=nft_do_chain+0x1/0x2 reason: NETFILTER_DROP\n"
    )
    got = pick(chunk, {"00000000000000dd"})  # dd: a probe packet that opened in an earlier chunk
    assert [line.split(b": ")[1] + b" " + line.split(b"skbaddr=")[1][14:16] for line in got] == [
        b"net_dev_queue bb", b"consume_skb bb", b"consume_skb dd", b"kfree_skb ee"]
    assert pick(b"", {"00000000000000dd"}) == []


def test_a_watched_probe_stops_waiting_per_size_once_the_kernel_dropped_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The path-MTU probe's sizes: each one's wait ends when the kernel reported its packets dropped."""
    from vnetdoctor.probes import icmp

    monkeypatch.setattr(kernel_window, "KernelDropWatch", _FakeWatch)
    monkeypatch.setattr(kernel_window, "missing_needs", lambda needs: None)
    stopped: list[int] = []
    monkeypatch.setattr(kernel_window, "stop_waiting", stopped.append)

    def run() -> None:
        _FakeWatch.made[-1].report(2)  # both packets of the first watched length dropped

    fut = kernel_window.watched(_Ctx(), PATH, PMTU, PATH.hops[0].vantage, {1403: 11, 1494: 12}, 2, run)  # type: ignore[arg-type]
    obs = fut.result(timeout=5)
    assert obs is not None and obs.probe == "kernel.drops" and _FakeWatch.made[-1].stopped
    assert stopped == [11]  # 1494's packets were not reported: its ping waits on
    assert icmp.stop_waiting is not stopped.append  # the module's own is untouched
    assert kernel_window.watched(_Ctx(kernel_drops=False), PATH, PMTU, PATH.hops[0].vantage, {1403: 11}, 2,
                                 lambda: None).result(timeout=5) is None
