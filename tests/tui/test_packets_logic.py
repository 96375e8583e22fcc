"""The Packets screen's headless parts: summary parsing, probe grouping, the path verdicts."""

from __future__ import annotations

import struct

from tests.tui.support.engine import GUEST, HOST, PATH
from tests.tui.support.views import (
    GUEST_IP,
    HOST_IP,
    T0,
    arp_frame,
    capture_step,
    icmp_frame,
    lost_at_guest,
    packet,
    round_trip,
)
from vnetdoctor.probes.rows_active import CaptureFailure
from vnetdoctor.probes.capture import pcap_bytes
from vnetdoctor.tui.path_trace import build_trace, group_packets, verdicts
from vnetdoctor.tui.screens.packets_source import recorded_capture
from vnetdoctor.tui.widgets.packet_list import packet_cells

POINTS = [(str(v), i) for v, i in PATH]


def test_packet_cells_narrow_uses_side_names_and_drops_the_length() -> None:
    row = packet(icmp_frame(HOST_IP, GUEST_IP, 7, 1), 1.5, HOST, "vnet0", out=True)
    narrow = packet_cells(row, 3, T0, wide=False, side_of={str(HOST): "host"})
    assert narrow == ["1.500000", "vnet0", "host", f"{HOST_IP} → {GUEST_IP}", "ICMP", "echo-request id=7 seq=1"]
    wide = packet_cells(row, 3, T0, wide=True)
    assert wide[0] == "3" and str(HOST) in wide and "out" in wide and wide[-1].endswith("len=84 DF")


def test_lost_request_names_the_last_hop_that_saw_it_and_the_first_that_did_not() -> None:
    trace = build_trace(lost_at_guest(), POINTS)
    by_flow = {v.flow: v for v in verdicts(trace)}
    echo = by_flow["icmp:4242"]
    assert echo.kind == "lost_request"
    assert echo.seen_at == (str(HOST), "vnet0") and echo.missing_at == (str(GUEST), "eth0")
    assert (echo.sent, echo.answered) == (3, 0)
    arp = by_flow[f"arp:{GUEST_IP}"]
    assert arp.kind == "ok"


def test_a_whole_round_trip_is_ok_and_a_missing_reply_is_said_so() -> None:
    ok = verdicts(build_trace(round_trip(9, 1, 0.0), POINTS))
    assert [v.kind for v in ok] == ["ok"]
    no_reply = [r for r in round_trip(9, 1, 0.0) if "echo-reply" not in r.summary]
    v = verdicts(build_trace(no_reply, POINTS))[0]
    assert v.kind == "no_reply" and v.seen_at == (str(GUEST), "eth0")


def test_reply_lost_on_the_way_back() -> None:
    rows = [r for r in round_trip(9, 1, 0.0) if not ("echo-reply" in r.summary and r.iface == "br0")]
    v = verdicts(build_trace(rows, POINTS))[0]
    assert v.kind == "lost_reply"
    assert v.seen_at == (str(HOST), "vnet0") and v.missing_at == (str(HOST), "br0")


def test_guest_to_host_direction_is_read_from_the_times() -> None:
    req = icmp_frame(GUEST_IP, HOST_IP, 0x8001, 1)
    rows = [packet(req, 0.0, GUEST, "eth0", out=True), packet(req, 0.001, HOST, "vnet0")]
    trace = build_trace(rows, POINTS)
    assert trace.directions["icmp:32769"] == -1
    v = verdicts(trace)[0]
    assert v.kind == "lost_request"
    assert v.seen_at == (str(HOST), "vnet0") and v.missing_at == (str(HOST), "br0")


def test_a_point_that_could_not_listen_is_not_blamed() -> None:
    rows = [r for r in lost_at_guest() if r.iface != "eth0"]
    trace = build_trace(rows, POINTS, unavailable=[(str(GUEST), "eth0")])
    echo = next(v for v in verdicts(trace) if v.flow == "icmp:4242")
    assert echo.kind == "no_reply"  # as far as anyone listened, the request got through


def test_groups_keep_request_and_reply_apart_per_tag() -> None:
    groups = group_packets(round_trip(5, 2, 0.0) + lost_at_guest(ident=6, seqs=(1,)))
    labels = [g.label for g in groups]
    assert labels == ["icmp 5:2", f"arp {GUEST_IP}", "icmp 6:1"]
    first = groups[0]
    assert len(first.request) == 3 and len(first.reply) == 3


def test_the_path_trace_imports_without_textual() -> None:
    """The grouping and the verdicts are plain data work: no terminal library behind them."""
    import subprocess
    import sys

    code = "import sys, vnetdoctor.tui.path_trace; print('textual' in sys.modules, 'rich' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_recorded_capture_collects_packets_and_unopened_points() -> None:
    rows = lost_at_guest()
    step = capture_step(rows + rows[:2], failed=(CaptureFailure("netns:vnd-guest", "eth1", "No such device"),))
    rec = recorded_capture(step.observations)
    assert len(rec.rows) == len(rows)  # duplicates (same time, point and bytes) once
    assert rec.failed == (CaptureFailure("netns:vnd-guest", "eth1", "No such device"),)
    assert rec.bpf == "icmp or arp"


def test_packets_with_the_same_time_are_listed_in_path_order() -> None:
    """One frame on br0 and vnet0 in the same microsecond: a request host side first, a reply back."""
    req, rep = icmp_frame(HOST_IP, GUEST_IP, 7, 1), icmp_frame(GUEST_IP, HOST_IP, 7, 1, reply=True)
    captured = [  # as the reader threads delivered them: vnet0's copy first
        packet(req, 0.000001, HOST, "vnet0"), packet(req, 0.000001, HOST, "br0"),
        packet(req, 0.000002, GUEST, "eth0"),
        packet(rep, 0.000003, HOST, "br0"), packet(rep, 0.000003, HOST, "vnet0"),
    ]
    rec = recorded_capture(capture_step(captured).observations, PATH)
    assert [(r.iface, "reply" in r.summary) for r in rec.rows] == [
        ("br0", False), ("vnet0", False), ("eth0", False), ("vnet0", True), ("br0", True)
    ]
    cells = packet_cells(rec.rows[1], 1, T0, wide=True)
    assert "0.000001" in cells  # microseconds, so the hops of one packet do not tie on screen


def test_frames_built_for_the_tests_are_what_capture_summarize_reads() -> None:
    row = packet(arp_frame(HOST_IP, GUEST_IP), 0.0, HOST, "br0")
    assert row.tag == f"arp:{GUEST_IP}"
    data = pcap_bytes([row])
    assert struct.unpack("<I", data[:4])[0] == 0xA1B2C3D4


def test_direction_follows_sent_and_received_even_when_capture_times_lie() -> None:
    # The reader thread stamped br0's packets first although the request came from the guest.
    req = icmp_frame(GUEST_IP, HOST_IP, 0x8002, 1)
    rows = [
        packet(req, 0.000, HOST, "br0"),
        packet(req, 0.001, HOST, "vnet0"),
        packet(req, 0.002, GUEST, "eth0", out=True),
    ]
    trace = build_trace(rows, POINTS)
    assert trace.directions["icmp:32770"] == -1
    assert verdicts(trace)[0].kind == "no_reply" and verdicts(trace)[0].seen_at == (str(HOST), "br0")


def test_an_answer_from_before_the_end_of_the_path_is_not_a_loss() -> None:
    # The guest asks for the host's address; the host's vnet0 answers (port detached from br0).
    ask, tell = arp_frame(GUEST_IP, HOST_IP), arp_frame(HOST_IP, GUEST_IP, reply=True)
    rows = [
        packet(ask, 0.0, GUEST, "eth0", out=True),
        packet(ask, 0.001, HOST, "vnet0"),
        packet(tell, 0.002, HOST, "vnet0", out=True),
        packet(tell, 0.003, GUEST, "eth0"),
    ]
    v = verdicts(build_trace(rows, POINTS))[0]
    assert v.kind == "answered_early"
    assert v.seen_at == (str(HOST), "vnet0") and v.missing_at == (str(HOST), "br0")


def test_a_tcp_line_shows_its_ports_and_the_filter_finds_it_by_address_with_or_without_one() -> None:
    from vnetdoctor.probes.frame_summary import packet_row
    from vnetdoctor.tui.widgets.packet_filter import parse_display_filter

    tcp = struct.pack("!HHIIBBHHH", 40000, 22, 1, 0, 5 << 4, 0x12, 8192, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0,
                     bytes(int(p) for p in HOST_IP.split(".")), bytes(int(p) for p in GUEST_IP.split(".")))
    row = packet_row(T0, str(HOST), "vnet0", b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + tcp)
    cells = packet_cells(row, 1, T0, wide=False, side_of={str(HOST): "host"})
    assert cells[-3:] == [f"{HOST_IP}:40000 → {GUEST_IP}:22", "TCP", "[S.]"]
    for text in (f"addr:{GUEST_IP}", f"addr:{GUEST_IP}:22", "proto:tcp"):
        flt = parse_display_filter(text)
        assert flt is not None and flt.matches(row, {}), text
    assert not parse_display_filter(f"addr:{GUEST_IP}:23").matches(row, {})  # type: ignore[union-attr]


def test_a_request_with_no_reply_says_what_was_seen_not_that_none_was_sent() -> None:
    """Issue 10: "no reply was sent" when only the host's br0 was captured claimed what no
    capture saw (the guest may have answered into a drop); the line says no reply was seen."""
    from vnetdoctor.knowledge.text import Translator
    from vnetdoctor.tui.widgets.path_view import PathView

    rows = [packet(icmp_frame(HOST_IP, GUEST_IP, 0x8003, 1), 0.0, HOST, "br0", out=True)]
    (verdict,) = verdicts(build_trace(rows, [(str(HOST), "br0")]))  # only br0 was captured
    assert verdict.kind == "no_reply"
    for lang in ("en", "zh"):
        line = PathView(Translator(lang)).verdict_line(verdict)
        assert "sent" not in line and "发出" not in line, line
    assert PathView(Translator("en")).verdict_line(verdict).endswith("no reply was seen")
