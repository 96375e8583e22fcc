"""Which interfaces along the path saw each probe packet, and where a probe flow vanished.

This is the reasoning an operator does by hand over one ``tcpdump`` per
interface: "the echo request shows up on vnet0 but never on the guest's eth0"
names the hop that drops it. Every probe packet vnetdoctor sends carries a tag
(``icmp:ID:SEQ``, ``arp:IP``, ``tcp:SPORT:DPORT``); packets with the same tag
captured on different interfaces are the same packet seen at different hops.

Split out of the path view widget (:mod:`.widgets.path_view`, issue 9) because it is
plain data work: grouping tagged packets into probe packets as batches arrive, each
flow's direction along the path, one verdict per flow. It is headless (no Textual),
so the Packets screen's recorded and live feeds and the tests use it without a
terminal; the widget only draws what it returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from vnetdoctor.probes.probe_tag import ProbeTag
from vnetdoctor.probes.rows import PacketRow
from vnetdoctor.probes.vocabulary import PacketKind

from .glyphs import glyph

Point = tuple[str, str]  # (vantage as text, interface)


@dataclass
class ProbeGroup:
    """One probe packet (one tag) and the points that saw its request and its reply."""

    key: str
    flow: str  # packets of one probe run (an ICMP identifier, one ARP target)
    label: str  # "icmp 4242:1"
    first_time: float
    flow_label: str = ""  # the run's: "icmp 4242" (a verdict speaks of the run, not one packet)
    request: dict[Point, float] = field(default_factory=dict)  # point -> first time seen
    reply: dict[Point, float] = field(default_factory=dict)
    request_tag: str = ""
    request_way: dict[Point, str] = field(default_factory=dict)  # point -> "out" (sent) | "in" (received)


@dataclass(frozen=True)
class Verdict:
    """Where a probe flow got to, for one line of text."""

    kind: str  # "ok" | "lost_request" | "answered_early" | "no_reply" | "lost_reply" | "unknown"
    flow: str
    label: str
    seen_at: Point | None = None  # the last point that saw it
    missing_at: Point | None = None  # the next point on its way, which did not
    sent: int = 0  # probe packets (requests) in the flow
    answered: int = 0  # of which a reply was seen anywhere


@dataclass
class PathTrace:
    points: list[Point]
    unavailable: set[Point]
    groups: list[ProbeGroup]
    directions: dict[str, int]  # flow -> +1 (host side first) or -1

    def listening(self) -> list[Point]:
        return [p for p in self.points if p not in self.unavailable]


def _classify(row: PacketRow) -> tuple[str, str, str, str, bool] | None:
    """``(group key, flow, label, flow label, is_reply)`` for a tagged probe packet, None for others."""
    tag = ProbeTag.read(row.tag)
    if tag is None:
        return None
    text = str(tag)
    if tag.kind == "icmp":
        run = f"icmp {tag.ident}"
        return text, tag.flow, f"{run}:{tag.seq}", run, row.kind == PacketKind.ECHO_REPLY
    if tag.kind == "arp":
        label = f"arp {tag.part(0)}"
        return text, text, label, label, row.kind == PacketKind.IS_AT
    if tag.kind == "tcp":
        a, b = tag.part(0), tag.part(1)
        ends = sorted((a, b), key=lambda s: int(s) if s.isdigit() else 0)
        key = f"tcp:{ends[0]}-{ends[1]}"
        label = f"tcp {a}{glyph('right')}{b}"
        return key, key, label, label, False  # the direction is settled by the first seen
    label = " ".join((tag.kind, ":".join(tag.parts))).strip()
    return text, text, label, label, False


class PathTracker:
    """Groups tagged packets into probe packets as batches arrive.

    Incremental, so that a live capture pays for each batch, not for everything
    captured so far; the oldest groups are dropped past ``max_groups``.
    """

    def __init__(self, max_groups: int = 2000) -> None:
        self.max_groups = max_groups
        self.groups: dict[str, ProbeGroup] = {}
        self.points_seen: dict[Point, None] = {}  # in the order they first saw a probe packet

    def add(self, rows: Iterable[PacketRow]) -> None:
        for row in sorted(rows, key=lambda r: r.time):
            found = _classify(row)
            if found is None:
                continue
            key, flow, label, flow_label, is_reply = found
            point = (row.vantage, row.iface)
            self.points_seen.setdefault(point, None)
            group = self.groups.get(key)
            if group is None:
                group = self.groups[key] = ProbeGroup(key, flow, label, row.time, request_tag=row.tag,
                                                      flow_label=flow_label)
            if key.startswith("tcp:"):
                is_reply = row.tag != group.request_tag
            side = group.reply if is_reply else group.request
            side.setdefault(point, row.time)
            if not is_reply:
                if row.direction:
                    group.request_way.setdefault(point, str(row.direction))
        while len(self.groups) > self.max_groups:
            del self.groups[next(iter(self.groups))]

    def trace(
        self, path: Sequence[Point], unavailable: Iterable[Point] = (), default_direction: int = 1
    ) -> PathTrace:
        """The groups against the path, with each flow's direction worked out."""
        unavailable = set(unavailable)
        points = ordered_points(path, self.points_seen, unavailable)
        index = {p: i for i, p in enumerate(points)}
        groups = list(self.groups.values())
        flows: dict[str, list[ProbeGroup]] = {}
        for g in groups:
            flows.setdefault(g.flow, []).append(g)
        directions = {flow: _direction(gs, index, default_direction) for flow, gs in flows.items()}
        return PathTrace(points, unavailable, groups, directions)


def group_packets(rows: Iterable[PacketRow]) -> list[ProbeGroup]:
    """Tagged packets grouped by probe packet, in the order they were first seen."""
    tracker = PathTracker(max_groups=10**9)
    tracker.add(rows)
    return list(tracker.groups.values())


def ordered_points(
    path: Sequence[Point], seen: Iterable[Point], unavailable: Iterable[Point] = ()
) -> list[Point]:
    """The path's points in order, then any point that saw packets but is not on the path."""
    out = list(dict.fromkeys(path))
    for p in [*unavailable, *seen]:
        if p not in out:
            out.append(p)
    return out


def _direction(groups: Sequence[ProbeGroup], index: Mapping[Point, int], default: int) -> int:
    """+1 when a flow's requests travel host side → guest side along the path, else -1.

    The surest sign is the packet's way at each point: an interface sends it
    ("out") before the next one receives it ("in"), so sendings sit upstream of
    receivings. Capture times come next (they are when the reader got to a
    socket, which can lag between interfaces); a request seen at one point only
    is taken to start at the end of the path it is nearer to.
    """
    votes = 0
    n = len(index)
    for g in groups:
        outs = [index[p] for p, way in g.request_way.items() if way == "out"]
        ins = [index[p] for p, way in g.request_way.items() if way == "in"]
        if outs and ins:
            delta = sum(ins) / len(ins) - sum(outs) / len(outs)
            if delta:
                votes += 1 if delta > 0 else -1
                continue
        seen = sorted(g.request.items(), key=lambda kv: kv[1])
        if not seen:
            continue
        first, last = index[seen[0][0]], index[seen[-1][0]]
        if first != last:
            votes += 1 if last > first else -1
        elif n > 1 and first != (n - 1) / 2:
            votes += 1 if first < (n - 1) / 2 else -1
    if votes == 0:
        return default
    return 1 if votes > 0 else -1


def build_trace(
    rows: Sequence[PacketRow],
    path: Sequence[Point],
    unavailable: Iterable[Point] = (),
    default_direction: int = 1,
) -> PathTrace:
    """Group the probe packets and work out each flow's direction along the path."""
    tracker = PathTracker(max_groups=10**9)
    tracker.add(rows)
    return tracker.trace(path, unavailable, default_direction)


def _walk(order: Sequence[Point], seen: Mapping[Point, float]) -> tuple[Point | None, Point | None]:
    """From the first point that saw the packet, along ``order``: the last point that saw
    it before the first one that did not (None when it went all the way)."""
    last: Point | None = None
    for p in order:
        if p in seen:
            last = p
        elif last is not None:
            return last, p
    return last, None


def verdicts(trace: PathTrace, limit: int = 3) -> list[Verdict]:
    """One verdict per probe flow (the most recent ``limit`` flows), requests of a flow pooled."""
    flows: dict[str, list[ProbeGroup]] = {}
    for g in trace.groups:
        flows.setdefault(g.flow, []).append(g)
    out: list[Verdict] = []
    for flow, groups in list(flows.items())[-limit:]:
        direction = trace.directions.get(flow, 1)
        order = trace.listening()
        if direction < 0:
            order = list(reversed(order))
        request: dict[Point, float] = {}
        reply: dict[Point, float] = {}
        for g in groups:
            request.update(g.request)
            reply.update(g.reply)
        label = groups[0].flow_label or groups[0].label
        sent = sum(1 for g in groups if g.request)
        answered = sum(1 for g in groups if g.reply)
        if not request:
            out.append(Verdict("unknown", flow, label, sent=sent, answered=answered))
            continue
        seen_at, missing = _walk(order, request)
        start = next((p for p in order if p in request), None)
        if missing is not None and start in reply:
            # Something before the end answered (a host interface answering ARP for
            # the host's address): the exchange completed, the path beyond was not used.
            out.append(Verdict("answered_early", flow, label, seen_at, missing, sent, answered))
            continue
        if missing is not None:
            out.append(Verdict("lost_request", flow, label, seen_at, missing, sent, answered))
            continue
        if not reply:
            out.append(Verdict("no_reply", flow, label, seen_at, None, sent, answered))
            continue
        back = list(reversed(order))
        reply_at, reply_missing = _walk(back, reply)
        if reply_missing is not None:
            out.append(Verdict("lost_reply", flow, label, reply_at, reply_missing, sent, answered))
        else:
            out.append(Verdict("ok", flow, label, reply_at, None, sent, answered))
    return out
