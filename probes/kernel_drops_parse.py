"""Kernel trace text in, one verdict per probe packet out: where it went and why it ended.

Tracepoints carry no namespace and no payload (kernel-evidence.md), so a probe
packet is recognised by its IP total length, unique per probe: the device events
(``net_dev_queue``, ``netif_rx``, ``netif_receive_skb``) filtered in the kernel on
that length give the buffer address and every device it crossed; the next
``kfree_skb`` (a drop, with the kernel's reason and function) or ``consume_skb`` (a
normal end) of that address is that packet's end. Buffer addresses are reused, which
is why the consume events matter: without them another packet's drop 15 ms later
would be pinned on the probe.

Pure functions over the text ``trace_pipe`` prints, so recorded traces
(tests/data/kernel_trace) test them without a kernel. Ground floor.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .base import row
from .rowkey import Row

# ``   ping-1234  [001] ..s1. 27439.426133: kfree_skb: skbaddr=... reason: NETFILTER_DROP``
_LINE = re.compile(r"^\s*(?P<task>.+?)-(?P<pid>\d+)\s+\[(?P<cpu>\d+)\]\s+\S+\s+(?P<ts>\d+\.\d+):\s+"
                   r"(?P<event>\w+):\s+(?P<rest>.*)$")
_FIELD = re.compile(r"(\w+)=(\S+)")
_REASON = re.compile(r"reason:\s*(\w+)")

DEVICE_EVENTS = ("net_dev_queue", "netif_rx", "netif_receive_skb")
ETH_HLEN = 14
ARP_LENGTHS = (28, 28 + ETH_HLEN)  # an Ethernet ARP frame without its header, and with it
ETH_P_IP = 2048
ETH_P_ARP = 2054

DROP = "drop"
CONSUMED = "consumed"

# Whose a device is: the path's two sides, or a namespace off the path.
HOST = "host"
GUEST = "guest"
OTHER = "other"


@dataclass(frozen=True)
class KernelDevice:
    """One device a probe packet crossed, and on whose side, as data.

    Checks ask "did this start off the path?" and evidence names the side in the
    operator's language (宿主机/虚拟机), so the pair is never glued into ``"host br0"``.
    """

    side: str  # HOST | GUEST | OTHER
    iface: str

    @property
    def off_path(self) -> bool:
        return self.side == OTHER


@dataclass(frozen=True)
class TraceEvent:
    """One line of ``trace_pipe``: the event name, its time and its fields."""

    event: str
    ts: float
    fields: Mapping[str, str]
    reason: str = ""

    @property
    def skb(self) -> str:
        return self.fields.get("skbaddr", "")


def parse_line(line: str) -> TraceEvent | None:
    """A ``trace_pipe`` line as an event; None for anything else (a lost-events notice, a blank)."""
    m = _LINE.match(line)
    if m is None:
        return None
    rest = m.group("rest")
    reason = _REASON.search(rest)
    fields = dict(_FIELD.findall(rest.split(" reason:", 1)[0]))
    return TraceEvent(m.group("event"), float(m.group("ts")), fields, reason.group(1) if reason else "")


def parse(text: str) -> list[TraceEvent]:
    return [e for e in (parse_line(line) for line in text.splitlines()) if e is not None]


def function_of(location: str) -> str:
    """``nft_do_chain+0x46f/0x5a0 [nf_tables]`` → ``nft_do_chain``."""
    return location.split("+", 1)[0].split(" ", 1)[0]


@row
class KernelDropRow(Row):
    """How the kernel ended one probe packet: dropped (with its reason) or consumed.

    Key: the probe packet, what happened to it and where: the same fault seen in another
    run (the IP length and the buffer address are random per run, so neither is in it).
    """

    KEY_FIELDS = ("probe", "kind", "verdict", "reason", "function", "last_dev", "side")

    probe: str  # which probe sent it: "forward", "reverse", "arp"
    kind: str  # "request" | "reply" | "arp" (the direction it travelled in)
    length: int  # its IP total length (how it was recognised)
    verdict: str  # DROP | CONSUMED
    reason: str  # the kernel's drop reason (NETFILTER_DROP); "" when consumed
    location: str  # the kernel function and offset (nft_do_chain+0x46f/0x5a0)
    function: str  # the function alone (nft_do_chain)
    devices: tuple[KernelDevice, ...]  # the devices it crossed, in order
    last_dev: str  # the last device it was seen on (eth0)
    side: str  # HOST | GUEST | OTHER (a namespace off the path) | "" (never seen on a device)
    at_ms: float  # when, after the first event of this packet
    direction: str = ""  # how it was last seen on last_dev: "in" (received) or "out" (queued to send)
    ident: int = 0  # the ICMP identifier of the ping that sent it (0: not a ping, an ARP request)


@dataclass(frozen=True)
class ProbeLength:
    """A probe packet's identity in the trace: its IP total length and which probe sent it."""

    length: int
    probe: str
    first_side: str  # the side its request leaves from: a packet first seen elsewhere is the reply
    ident: int = 0  # the ICMP identifier its ping uses (ties the kernel's word to captured packets)


@dataclass
class _Flow:
    length: int
    started: float
    devices: list[str] = field(default_factory=list)
    direction: str = ""


def _probe_of(length: int, probes: Sequence[ProbeLength]) -> ProbeLength | None:
    for p in probes:
        if length in (p.length, p.length + ETH_HLEN):
            return p
    if length in ARP_LENGTHS:
        return ProbeLength(length, "arp", "")
    return None


def _name(length: int, probes: Sequence[ProbeLength]) -> str:
    probe = _probe_of(length, probes)
    return probe.probe if probe is not None else ""


class Follower:
    """Follows buffer addresses from device events to their end; feed it events as they come.

    ``path`` is the path's devices in the forward direction as (side, device name); a
    name can be on both sides (the lab host's uplink and the guest's NIC are both
    ``eth0``), so a packet's devices are matched to the path in order, forwards or
    backwards, whichever fits more of them. ``extra``: the host's other devices, in no
    order. A device on neither is in a namespace off the path (``other``).
    """

    def __init__(self, probes: Sequence[ProbeLength], path: Sequence[tuple[str, str]],
                 extra: Sequence[tuple[str, str]] = ()) -> None:
        self.probes = tuple(probes)
        self.path = tuple(path)
        self.extra = {dev: side for side, dev in extra}
        self.rows: list[KernelDropRow] = []
        self._flows: dict[str, _Flow] = {}

    def is_open(self, skbaddr: str) -> bool:
        """Whether a probe packet with this buffer address is in flight (a cheap test)."""
        return skbaddr in self._flows

    def open_buffers(self) -> frozenset[str]:
        """The buffer addresses of probe packets still in flight."""
        return frozenset(self._flows)

    def feed(self, events: Iterable[TraceEvent]) -> list[KernelDropRow]:
        """Take events in order; the rows they completed (also appended to ``rows``)."""
        done: list[KernelDropRow] = []
        for ev in events:
            if ev.event in DEVICE_EVENTS:
                self._device(ev)
            elif ev.event in ("kfree_skb", "consume_skb"):
                flow = self._flows.pop(ev.skb, None)
                if flow is not None:
                    done.append(self._end(flow, ev))
        self.rows.extend(done)
        return done

    def _device(self, ev: TraceEvent) -> None:
        try:
            length = int(ev.fields.get("len", "0"))
        except ValueError:
            return
        if _probe_of(length, self.probes) is None:
            return
        flow = self._flows.get(ev.skb)
        if flow is None or _name(flow.length, self.probes) != _name(length, self.probes):
            # A buffer of another probe's length at this address: the earlier packet ended
            # unseen (freed where the filter keeps quiet), this is a new one.
            flow = self._flows[ev.skb] = _Flow(length, ev.ts)
        dev = ev.fields.get("dev", "?")
        flow.direction = "out" if ev.event == "net_dev_queue" else "in"
        if not flow.devices or flow.devices[-1] != dev:
            flow.devices.append(dev)

    def _end(self, flow: _Flow, ev: TraceEvent) -> KernelDropRow:
        probe = _probe_of(flow.length, self.probes)
        assert probe is not None  # only flows of known lengths are opened
        labelled = self.label(flow.devices)
        first_side = labelled[0][0] if labelled else ""
        if probe.probe == "arp":
            kind = "arp"
        else:
            kind = "request" if first_side in ("", probe.first_side) else "reply"
        location = ev.fields.get("location", "")
        side, last_dev = labelled[-1] if labelled else ("", "")
        return KernelDropRow(
            probe=probe.probe, kind=kind, length=probe.length,
            verdict=DROP if ev.event == "kfree_skb" else CONSUMED,
            reason=ev.reason if ev.event == "kfree_skb" else "",
            location=location, function=function_of(location),
            devices=tuple(KernelDevice(s, d) for s, d in labelled), last_dev=last_dev, side=side,
            at_ms=round((ev.ts - flow.started) * 1000.0, 3), direction=flow.direction, ident=probe.ident,
        )

    def label(self, devices: Sequence[str]) -> list[tuple[str, str]]:
        """(side, device) for each device a packet crossed.

        A packet moves hop by hop: after the first device it can only be on the same hop
        or the next one. A same-named device further along (the guest's ``eth0`` right
        after the host bridge, skipping the guest's port) is another namespace's: a
        flooded copy on the uplink, say.
        """
        best: list[tuple[str, str]] = []
        best_fit = -1
        for order in (self.path, tuple(reversed(self.path))):
            out: list[tuple[str, str]] = []
            fit, pos = 0, -1
            for dev in devices:
                if pos < 0:
                    at = next((j for j, (_, d) in enumerate(order) if d == dev), -1)
                else:
                    at = next((j for j in (pos, pos + 1) if j < len(order) and order[j][1] == dev), -1)
                if at >= 0:
                    pos = at
                    out.append((order[at][0], dev))
                    fit += 1
                else:
                    out.append((self.extra.get(dev, OTHER), dev))
            if fit > best_fit:
                best, best_fit = out, fit
        return best


def packet_verdicts(rows: Iterable[KernelDropRow]) -> dict[tuple[str, str], KernelDropRow]:
    """One verdict per (probe, kind): the kernel's most frequent word, drops before consumes.

    kernel-evidence.md asks for 2 of 3 probes to agree before naming anything: a drop
    seen once among three probe packets is noise until it repeats. ARP requests are the
    exception: the kernel retries them once a second, so a probe window sees one, and a
    drop of the one our pings triggered, on the path, is the answer.
    """
    by: dict[tuple[str, str], list[KernelDropRow]] = {}
    for r in rows:
        by.setdefault((r.probe, r.kind), []).append(r)
    out: dict[tuple[str, str], KernelDropRow] = {}
    for k, rs in by.items():
        # ARP frames carry no probe length: only those that started on our path are ours.
        if k[1] == "arp":
            rs = [r for r in rs if r.devices and not r.devices[0].off_path]
            if not rs:
                continue
        drops = [r for r in rs if r.verdict == DROP]
        groups: dict[tuple[str, str, str], list[KernelDropRow]] = {}
        for r in drops or rs:
            groups.setdefault((r.verdict, r.reason, r.function), []).append(r)
        best = max(groups.values(), key=len)
        need = 1 if k[1] == "arp" else min(2, len(rs))
        if len(best) >= need:
            out[k] = best[-1]
    return out
