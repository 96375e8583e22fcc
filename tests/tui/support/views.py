"""Fixtures for the Packets and Tables screen tests: frames, a fake capture and probe runner.

Everything is injected through the screens' constructors (no monkeypatching of
Textual): the capture factory, the capability check and the probe runner. Frames
are real Ethernet/IPv4/ICMP/ARP bytes built here, summarised and tagged by the
real capture decoder (``probes.frame_summary.packet_row``), so the list, the path view, the decoder and
the pcap writer see what a live capture gives them. Times are fixed.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from textual.screen import Screen
from vnetdoctor.knowledge.model import Request, StepResult
from vnetdoctor.probes.base import OK, SKIPPED, Observation
from vnetdoctor.probes.capture import FilterError
from vnetdoctor.probes.frame_summary import packet_row
from vnetdoctor.probes.rows import (
    AddrRow,
    FirewallRow,
    LinkRow,
    PacketRow,
    RouteRow,
)
from vnetdoctor.probes.rows_active import CaptureFailure
from vnetdoctor.probes.vantage import Vantage
from vnetdoctor.probes.vocabulary import Direction
from vnetdoctor.tui.app import VnetDoctorApp
from vnetdoctor.tui.state import SessionState

from tests.tui.support.engine import GUEST, HOST, PATH, FakeEngine

T0 = 1_700_000_000.0  # fixed epoch for every fake packet

HOST_MAC = bytes.fromhex("020000000001")
GUEST_MAC = bytes.fromhex("020000000002")
HOST_IP, GUEST_IP = "198.18.0.1", "198.18.0.11"


# --- frames -------------------------------------------------------------------------------


def _csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _ip(text: str) -> bytes:
    return bytes(int(p) for p in text.split("."))


def icmp_frame(src: str, dst: str, ident: int, seq: int, reply: bool = False) -> bytes:
    payload = bytes(range(56))
    icmp = struct.pack("!BBHHH", 0 if reply else 8, 0, 0, ident, seq) + payload
    icmp = icmp[:2] + struct.pack("!H", _csum(icmp)) + icmp[4:]
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 1, 0x4000, 64, 1, 0, _ip(src), _ip(dst))
    header = header[:10] + struct.pack("!H", _csum(header)) + header[12:]
    smac, dmac = (GUEST_MAC, HOST_MAC) if reply else (HOST_MAC, GUEST_MAC)
    return dmac + smac + b"\x08\x00" + header + icmp


def arp_frame(sender_ip: str, target_ip: str, reply: bool = False) -> bytes:
    sha = GUEST_MAC if reply else HOST_MAC
    tha = HOST_MAC if reply else b"\0" * 6
    body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2 if reply else 1, sha, _ip(sender_ip), tha, _ip(target_ip))
    dst = HOST_MAC if reply else b"\xff" * 6
    return dst + sha + b"\x08\x06" + body


def packet(frame: bytes, at: float, vantage: Vantage, iface: str, out: bool = False) -> PacketRow:
    return packet_row(T0 + at, str(vantage), iface, frame, Direction.OUT if out else Direction.IN)


def lost_at_guest(ident: int = 4242, seqs: Sequence[int] = (1, 2, 3)) -> list[PacketRow]:
    """Echo requests host → guest seen on br0 and vnet0, never on the guest's eth0; ARP answered."""
    rows = [
        packet(arp_frame(HOST_IP, GUEST_IP), 0.001, HOST, "br0", out=True),
        packet(arp_frame(HOST_IP, GUEST_IP), 0.0012, HOST, "vnet0", out=True),
        packet(arp_frame(HOST_IP, GUEST_IP), 0.0014, GUEST, "eth0"),
        packet(arp_frame(GUEST_IP, HOST_IP, reply=True), 0.0016, GUEST, "eth0", out=True),
        packet(arp_frame(GUEST_IP, HOST_IP, reply=True), 0.0018, HOST, "vnet0"),
        packet(arp_frame(GUEST_IP, HOST_IP, reply=True), 0.002, HOST, "br0"),
    ]
    for i, seq in enumerate(seqs):
        base = 0.01 + i * 0.2
        frame = icmp_frame(HOST_IP, GUEST_IP, ident, seq)
        rows.append(packet(frame, base, HOST, "br0", out=True))
        rows.append(packet(frame, base + 0.0001, HOST, "vnet0", out=True))
    return rows


def round_trip(ident: int, seq: int, at: float) -> list[PacketRow]:
    """One echo that crosses the whole path and comes back."""
    req = icmp_frame(HOST_IP, GUEST_IP, ident, seq)
    rep = icmp_frame(GUEST_IP, HOST_IP, ident, seq, reply=True)
    return [
        packet(req, at, HOST, "br0", out=True),
        packet(req, at + 0.0001, HOST, "vnet0", out=True),
        packet(req, at + 0.0002, GUEST, "eth0"),
        packet(rep, at + 0.0003, GUEST, "eth0", out=True),
        packet(rep, at + 0.0004, HOST, "vnet0"),
        packet(rep, at + 0.0005, HOST, "br0"),
    ]


# --- state --------------------------------------------------------------------------


def make_request() -> Request:
    return Request(target=GUEST_IP, host=HOST, guest=GUEST)


def capture_step(rows: Sequence[PacketRow], failed: Sequence[CaptureFailure] = ()) -> StepResult:
    """The symptom step's capture as the trace records it: frames, and the points not opened as rows."""
    raw = "; ".join(f"{f.iface}@{f.vantage}: {f.reason}" for f in failed) or "listened on br0@netns:vnd-host"
    obs = Observation(
        probe="capture.path", vantage=str(HOST), status=OK, rows=(*rows, *failed), raw=raw,
        params=(("filter", "icmp or arp"),), layer="datalink",
    )
    return StepResult("symptom.ping", "symptom", "ping both ways", "fail", observations=(obs,))


def recorded_state(rows: Sequence[PacketRow], lang: str = "en", replay: bool = True,
                   failed: Sequence[CaptureFailure] = ()) -> SessionState:
    request = make_request()
    engine = FakeEngine.recorded(request, [capture_step(rows, failed)], points=PATH)
    return SessionState(request=request, engine=engine, lang=lang, replay=replay, session_id="s-test")


def live_state(lang: str = "en") -> SessionState:
    request = make_request()
    return SessionState(request=request, engine=FakeEngine(request, points=PATH), lang=lang)


# --- capture --------------------------------------------------------------------------------


class FakeCapture:
    """A Capture the test feeds by hand; ``start`` fails points whose iface is ``missing*``."""

    def __init__(self, points: Sequence[tuple[Vantage, str]], bpf: str) -> None:
        self.points = list(points)
        self.bpf = bpf
        self.started = False
        self.stopped = threading.Event()
        self._rows: list[PacketRow] = []
        self._lock = threading.Lock()

    def start(self) -> dict[str, str]:
        if "bogus" in self.bpf:
            raise FilterError(f"bad capture filter {self.bpf!r}: syntax error")
        self.started = True
        return {f"{iface}@{v}": "No such device" for v, iface in self.points if iface.startswith("missing")}

    def push(self, rows: Sequence[PacketRow]) -> None:
        with self._lock:
            self._rows.extend(rows)

    def drain(self) -> list[PacketRow]:
        with self._lock:
            rows, self._rows = self._rows, []
        return rows

    def stop(self, linger: float = 0.0) -> list[PacketRow]:
        self.stopped.set()
        return []


@dataclass
class CaptureFactory:
    """Hands out FakeCaptures and keeps them, so a test can push packets into the running one."""

    made: list[FakeCapture] = field(default_factory=list)

    def __call__(self, points: Sequence[tuple[Vantage, str]], bpf: str) -> FakeCapture:
        cap = FakeCapture(points, bpf)
        self.made.append(cap)
        return cap

    def running(self) -> FakeCapture:
        live = [c for c in self.made if c.started and not c.stopped.is_set()]
        assert live, "no capture is running"
        return live[-1]


# --- probes ---------------------------------------------------------------------------------


def links(host_mtu: int = 1500, extra: bool = False) -> tuple[LinkRow, ...]:
    rows = [
        LinkRow(1, "lo", "loopback", "UNKNOWN", True, True, 65536, "00:00:00:00:00:00"),
        LinkRow(2, "br0", "bridge", "UP", True, True, 1500, "02:00:00:00:00:01"),
        LinkRow(3, "vnet0", "veth", "UP", True, True, host_mtu, "02:00:00:00:00:03", master="br0"),
        LinkRow(4, "uplink", "veth", "DOWN", False, False, 1500, "02:00:00:00:00:04"),
    ]
    rows += [LinkRow(10 + i, f"tap{i}", "tun", "DOWN", False, False, 1500, f"02:00:00:00:01:{i:02x}")
             for i in range(30)]
    if extra:
        rows.append(LinkRow(99, "vnet9", "veth", "UP", True, True, 1500, "02:00:00:00:00:99", master="br0"))
    return tuple(rows)


GUEST_LINKS = (
    LinkRow(1, "lo", "loopback", "UNKNOWN", True, True, 65536, "00:00:00:00:00:00"),
    LinkRow(2, "eth0", "veth", "UP", True, True, 1500, "02:00:00:00:00:02"),
)

ADDRS = (
    AddrRow("br0", "inet", HOST_IP, 24, "global"),
    AddrRow("lo", "inet", "127.0.0.1", 8, "host"),
)

ROUTES = (
    RouteRow("198.18.0.0/24", dev="br0", prefsrc=HOST_IP, protocol="kernel", scope="link"),
    RouteRow("default", gateway="198.18.0.254", dev="br0", metric=100),
)

FIREWALL = (
    FirewallRow("nftables", "inet", "filter", "input", hook="input", policy="accept", priority=0),
    FirewallRow("nftables", "inet", "filter", "input", rule="ip saddr 198.18.0.1 icmp type echo-request drop",
                verdict="drop", handle=4, packets=3, bytes=252, position=0),
)


class FakeRunner:
    """``run_probe`` look-alike: answers from a table, counts calls, can be changed between polls."""

    def __init__(self, answers: Mapping[tuple[str, str], Any] | None = None) -> None:
        self.answers: dict[tuple[str, str], Any] = dict(answers or {})
        self.calls: list[tuple[str, str]] = []
        self.release = threading.Event()  # cleared by a test to hold probes "running"
        self.release.set()
        self._lock = threading.Lock()
        self.inflight = 0
        self.max_inflight = 0  # more than 1 would mean two polls overlapped

    def __call__(self, probe_id: str, vantage: Vantage, **params: Any) -> Observation:
        with self._lock:
            self.calls.append((probe_id, str(vantage)))
            self.inflight += 1
            self.max_inflight = max(self.max_inflight, self.inflight)
        try:
            self.release.wait(5)
            return self._answer(probe_id, vantage)
        finally:
            with self._lock:
                self.inflight -= 1

    def _answer(self, probe_id: str, vantage: Vantage) -> Observation:
        answer = self.answers.get((probe_id, str(vantage)))
        if answer is None:
            return Observation(probe_id, str(vantage), SKIPPED, reason="needs the libvirt daemon")
        if isinstance(answer, Observation):
            return answer
        if isinstance(answer, Exception):
            raise answer
        return Observation(probe_id, str(vantage), OK, rows=tuple(answer))


def standard_answers() -> dict[tuple[str, str], Any]:
    return {
        ("link.list", str(HOST)): links(),
        ("link.list", str(GUEST)): GUEST_LINKS,
        ("addr.list", str(HOST)): ADDRS,
        ("addr.list", str(GUEST)): (AddrRow("eth0", "inet", GUEST_IP, 24, "global"),),
        ("route.list", str(HOST)): ROUTES,
        ("route.list", str(GUEST)): (),
        ("firewall.rules", str(HOST)): FIREWALL,
        ("firewall.rules", str(GUEST)): Observation(
            "firewall.rules", str(GUEST), SKIPPED, reason="needs the nft command"),
    }


def shown_text(static: Any, width: int = 160) -> str:
    """What a Static shows, as plain text (its content may be a rich renderable)."""
    import io

    from rich.console import Console

    out = io.StringIO()
    Console(file=out, width=width, color_system=None, legacy_windows=False).print(static.content)
    return out.getvalue()


# --- the app the screens are opened in ---------------------------------------------------------


def views_app(make_screen: Callable[[], Screen[Any]], lang: str = "en") -> VnetDoctorApp:
    """The production App (``tui.launch.build_app``: its CSS, bindings, help and keymap),
    opened on the screen ``make_screen`` builds instead of Start or the walk."""
    from vnetdoctor.tui.launch import build_app

    def no_engine(request: Request, ask: Any, on_event: Any) -> FakeEngine:
        raise AssertionError("a Packets or Tables test started a walk")

    return build_app(SessionState(request=None, lang=lang), no_engine, autorun=False, first_screen=make_screen,
                     discover_fn=lambda: ([], []))
