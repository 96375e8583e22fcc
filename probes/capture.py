"""Packet capture on the interfaces along the path, in whatever namespace each lives.

Sockets are ``AF_PACKET`` sockets opened inside the vantage (see ``nsexec``) with a
kernel BPF filter attached, so only the frames that matter are copied to user
space. The filter is compiled by libpcap through scapy (imported lazily); packets
are decoded with scapy only when a view asks for it. One reader thread serves all
sockets with ``select`` so a capture on five interfaces costs one thread.
"""

from __future__ import annotations

import os
import select
import socket
import struct
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .nsexec import call_in
from .frame_summary import packet_row
from .rows import PacketRow
from .rows_active import CaptureFailure
from .vantage import Vantage
from .vocabulary import Direction

ETH_P_ALL = 0x0003
SO_ATTACH_FILTER = 26
SO_TIMESTAMPNS = 35  # also the cmsg type (SCM_TIMESTAMPNS): the kernel's arrival time
PACKET_OUTGOING = 4
LINKTYPE_ETHERNET = 1
DEFAULT_FILTER = "icmp or arp"


class FilterError(ValueError):
    """A BPF filter expression libpcap does not accept; the message is one line."""


def compile_bpf(expression: str) -> bytes:
    """Compile a tcpdump-style filter for Ethernet into a ``struct sock_fprog`` payload.

    Returns the raw instructions (8 bytes each); raises FilterError when invalid.
    """
    from scapy.arch.common import compile_filter  # lazy: scapy costs ~0.5 s to import
    from scapy.error import Scapy_Exception

    try:
        prog = compile_filter(expression, linktype=LINKTYPE_ETHERNET)
    except (Scapy_Exception, OSError) as exc:
        raise FilterError(f"bad capture filter {expression!r}: {exc}".splitlines()[0]) from None
    insns = prog.bf_insns
    return bytes(
        b
        for i in range(prog.bf_len)
        for b in struct.pack("HBBI", insns[i].code, insns[i].jt, insns[i].jf, insns[i].k & 0xFFFFFFFF)
    )


def _attach(sock: socket.socket, program: bytes) -> None:
    import ctypes

    buf = ctypes.create_string_buffer(program)
    fprog = struct.pack("HL", len(program) // 8, ctypes.addressof(buf))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)


@dataclass(frozen=True)
class CapturePoint:
    vantage: Vantage
    iface: str

    def __str__(self) -> str:
        return f"{self.iface}@{self.vantage}"


WHOLE_CAPTURE = "capture"  # the key of a failure of the capture as a whole (not one point)


def capture_failures(
    points: Iterable[tuple[Vantage | str, str]], failed: Mapping[str, str]
) -> tuple[CaptureFailure, ...]:
    """What :meth:`Capture.start` could not open, as rows: one per point, looked up by the point.

    ``failed`` is keyed by each point's text; the points are known, so each is
    looked up (never split back out of the key). A key that is no point (the
    capture as a whole, :data:`WHOLE_CAPTURE`) becomes a failure with no vantage
    and no interface, keeping its key in the reason unless it is the whole capture.
    """
    out: list[CaptureFailure] = []
    known: set[str] = set()
    for vantage, iface in points:
        key = str(CapturePoint(vantage, iface))  # type: ignore[arg-type]
        known.add(key)
        if key in failed:
            out.append(CaptureFailure(str(vantage), iface, failed[key]))
    for key, reason in failed.items():
        if key not in known:
            out.append(CaptureFailure("", "", reason if key == WHOLE_CAPTURE else f"{key}: {reason}"))
    return tuple(out)


class Capture:
    """Capture on several (vantage, interface) points at once, until stopped.

    ``start()`` returns the points that could not be opened, with the reason, so a
    caller can report "skipped: no such interface" per point instead of failing.
    """

    def __init__(
        self,
        points: Iterable[tuple[Vantage, str] | CapturePoint],
        bpf: str = DEFAULT_FILTER,
        snaplen: int = 2048,
        max_packets: int = 20000,
    ) -> None:
        self.points = [p if isinstance(p, CapturePoint) else CapturePoint(*p) for p in points]
        self.bpf = bpf
        self.snaplen = snaplen
        self.max_packets = max_packets
        self._socks: dict[int, tuple[socket.socket, CapturePoint]] = {}
        self._rows: list[PacketRow] = []
        self._drained = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._wake: tuple[int, int] | None = None  # stop() writes here: the reader wakes at once
        self.dropped = 0  # rows not kept once max_packets was reached

    def start(self) -> dict[str, str]:
        program = compile_bpf(self.bpf) if self.bpf else b""
        failed: dict[str, str] = {}
        for point in self.points:
            try:
                sock = call_in(point.vantage, self._open, point.iface, program)
            except OSError as exc:
                failed[str(point)] = exc.strerror or str(exc)
                continue
            except Exception as exc:  # noqa: BLE001 - reported per point
                failed[str(point)] = str(exc)
                continue
            self._socks[sock.fileno()] = (sock, point)
        self._wake = os.pipe()
        self._thread = threading.Thread(target=self._read_loop, args=(self._wake[0],), name="capture", daemon=True)
        self._thread.start()
        return failed

    @staticmethod
    def _open(iface: str, program: bytes) -> socket.socket:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        try:
            if program:
                _attach(sock, program)
            # Stamp frames when the kernel saw them, not when our reader got round to them:
            # packets from several interfaces must sort in the order they crossed the path.
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            sock.bind((iface, ETH_P_ALL))
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        return sock

    def _read_loop(self, wake: int) -> None:
        fds = list(self._socks)
        while not self._stop.is_set() and fds:
            ready, _, _ = select.select([*fds, wake], [], [], 0.05)
            for fd in ready:
                if fd == wake:
                    continue
                sock, point = self._socks[fd]
                while True:
                    try:
                        data, ancdata, _flags, addr = sock.recvmsg(65535, 64)
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:
                        fds.remove(fd)
                        break
                    self._keep(point, data[: self.snaplen], addr, _stamp(ancdata))

    def _keep(self, point: CapturePoint, data: bytes, addr: tuple, stamp: float | None = None) -> None:
        outgoing = len(addr) > 2 and addr[2] == PACKET_OUTGOING
        row = packet_row(stamp if stamp is not None else time.time(), str(point.vantage), point.iface, data,
                         Direction.OUT if outgoing else Direction.IN)
        with self._lock:
            if len(self._rows) >= self.max_packets:
                self.dropped += 1
                return
            self._rows.append(row)

    def drain(self) -> list[PacketRow]:
        """Packets captured since the previous drain (for live views)."""
        with self._lock:
            new = self._rows[self._drained :]
            self._drained = len(self._rows)
        return new

    def stop(self, linger: float = 0.0) -> list[PacketRow]:
        """Stop (after ``linger`` seconds for stragglers) and return every packet kept."""
        if linger:
            time.sleep(linger)
        self._stop.set()
        wake, self._wake = self._wake, None
        if wake is not None:
            os.write(wake[1], b"x")
        if self._thread is not None:
            self._thread.join(timeout=2)
        # Closing a packet socket waits for the kernel's RCU grace period (10-40 ms each here):
        # every packet is read already, so the walk goes on while a thread closes them.
        closing = [sock for sock, _ in self._socks.values()]
        self._socks.clear()
        if closing or wake is not None:
            threading.Thread(target=_close_all, args=(closing, wake or ()), name="capture-close").start()
        with self._lock:
            return list(self._rows)

    def __enter__(self) -> Capture:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _close_all(socks: list[socket.socket], wake: tuple[int, ...]) -> None:
    for sock in socks:
        sock.close()
    for fd in wake:
        os.close(fd)


def _stamp(ancdata: list[tuple[int, int, bytes]]) -> float | None:
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(payload) >= 16:
            sec, nsec = struct.unpack("qq", payload[:16])
            return sec + nsec / 1e9
    return None


def decode_layers(row: PacketRow) -> list[tuple[str, list[tuple[str, str]]]]:
    """The frame's layers and their fields, decoded by scapy (for the packet detail view)."""
    import scapy.layers.inet  # noqa: F401 - binds IP/ICMP/TCP/UDP under Ether
    from scapy.layers.l2 import Ether  # lazy: scapy is slow to import
    from scapy.packet import Packet

    pkt = Ether(bytes.fromhex(row.data_hex))
    layers: list[tuple[str, list[tuple[str, str]]]] = []
    layer: Packet | None = pkt
    while layer is not None and layer.__class__.__name__ != "NoPayload":
        fields: list[tuple[str, str]] = []
        for f in layer.fields_desc:
            try:
                value = layer.getfieldval(f.name)
                shown = f.i2repr(layer, value)
            except Exception:  # noqa: BLE001 - one odd field must not hide the packet
                shown = "?"
            fields.append((f.name, str(shown)))
        layers.append((layer.name or type(layer).__name__, fields))
        layer = layer.payload if layer.payload else None
    return layers


def hexdump(data: bytes, width: int = 16) -> list[str]:
    """``offset  hex bytes  ascii`` lines; 16 bytes a line fits 80 columns (71 wide)."""
    lines = []
    for off in range(0, len(data), width):
        chunk = data[off : off + width]
        hexpart = " ".join(f"{b:02x}" for b in chunk).ljust(width * 3 - 1)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{off:04x}  {hexpart}  {text}")
    return lines


def pcapng_bytes(rows: Sequence[PacketRow], sides: dict[str, str]) -> bytes:
    """A pcapng file of the rows in time order (ties keep the order given: the path order),
    each on an interface named by its side and name (``host:br0``, ``guest:eth0``)."""
    import io

    from .pcapng import side_namer, write_rows

    out = io.BytesIO()
    write_rows(out, sorted(rows, key=lambda r: r.time), side_namer(sides))
    return out.getvalue()


def pcap_bytes(rows: Sequence[PacketRow]) -> bytes:
    """A classic pcap file of the rows, in time order (the writer export uses too)."""
    import io

    from .pcap import frame_bytes, linktype_of, write_pcap as _write

    out = io.BytesIO()
    ordered = sorted(rows, key=lambda r: r.time)
    _write(out, ((r.time, frame_bytes(r), r.length) for r in ordered), linktype_of(ordered))
    return out.getvalue()


def write_pcap(rows: Sequence[PacketRow], path: str) -> int:
    """Write rows to ``path`` as pcap; returns the number of packets written."""
    data = pcap_bytes(rows)
    with open(path, "wb") as fh:
        fh.write(data)
    return len(rows)
