"""The end-to-end check: ping both ways while listening on every hop of the path.

This is what turns "no reply" into "the echo request was seen on vnet0 (host) and
never on eth0 (guest)": each probe packet carries our ICMP identifier and
sequence number, and the capture says which hops saw the request and the reply.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

from vnetdoctor.probes.base import Observation, run_probe
from vnetdoctor.probes.capture import WHOLE_CAPTURE, Capture, capture_failures
from vnetdoctor.probes.probe_tag import ProbeTag
from vnetdoctor.probes.rows import BridgePortRow, LinkRow, PacketRow
from vnetdoctor.probes.vantage import Vantage
from vnetdoctor.probes.vocabulary import PacketKind

from .kernel_window import KernelWindow
from .model import Evidence
from .path import Hop, Path, PathPoint
from .text import join, tr


def hop_label(side: str, iface: str, lang: str = "en") -> str:
    """A capture point as the operator reads it: ``host vnet0`` / ``宿主机 vnet0``.

    Same text in English as :meth:`.path.Hop.label`; a side that is neither host nor
    guest (a packet seen somewhere unexpected) is shown as it is.
    """
    if side == "host":
        return tr("hop.host", lang, iface=iface)
    if side == "guest":
        return tr("hop.guest", lang, iface=iface)
    return f"{side} {iface}" if side else iface


@dataclass(frozen=True)
class Leg:
    """One direction: who pinged whom, how it went, and where its packets were seen."""

    name: str  # "forward" | "reverse"
    sender: Vantage
    dst: str
    ident: int
    echo: Observation
    hops: tuple[Hop, ...]  # in the order the request crosses them
    request_seen: dict[str, tuple[PathPoint, ...]] = field(default_factory=dict)  # seq -> where seen
    reply_seen: dict[str, tuple[PathPoint, ...]] = field(default_factory=dict)
    capture_vantage: str = ""  # where the path capture ran (what ``line`` says comes from it)
    # Hops nothing listened on (a libvirt guest has no capture vantage on this host):
    # "never seen there" would claim an observation nobody made.
    uncaptured: frozenset[PathPoint] = frozenset()
    # The sender's own ping chose its ICMP identifier (busybox in a guest): no capture can tell
    # its packets, so nothing is said about where they were or were not seen.
    untracked: bool = False

    @property
    def replies(self) -> int:
        return sum(1 for r in self.echo.rows if getattr(r, "rtt_ms", None) is not None)

    @property
    def sent(self) -> int:
        return len(self.echo.rows)

    @property
    def ok(self) -> bool:
        return self.echo.ok and self.replies > 0

    @property
    def send_errors(self) -> list[str]:
        return sorted({r.error for r in self.echo.rows if getattr(r, "error", "")})

    def last_request_hop(self) -> Hop | None:
        """The furthest hop along the path that saw any of our requests."""
        seen = {point for points in self.request_seen.values() for point in points}
        last = None
        for hop in self.hops:
            if hop.point in seen:
                last = hop
        return last

    def first_missing_request_hop(self) -> Hop | None:
        seen = {point for points in self.request_seen.values() for point in points}
        last = self.last_request_hop()
        after = False if last is not None else True
        for hop in self.hops:
            if after and hop.point not in seen:
                return hop
            if last is not None and hop == last:
                after = True
        return None

    def reply_seen_anywhere(self) -> bool:
        return any(self.reply_seen.values())

    def where(self, lang: str = "en") -> str:
        """One line: where the requests were last seen, and where they never arrived."""
        if self.ok:
            return tr("trace.replies", lang, replies=self.replies, sent=self.sent)
        if self.send_errors:
            return tr("trace.send_failed", lang, errors=join(self.send_errors, lang))
        last, missing = self.last_request_hop(), self.first_missing_request_hop()
        if self.untracked:
            return tr("trace.untracked", lang, replies=self.replies, sent=self.sent)
        if not self.hops:
            return tr("trace.no_capture_points", lang)
        if last is None:
            first = next((h for h in self.hops if h.point not in self.uncaptured), None)
            if first is None:
                return tr("trace.nothing_captured", lang)
            return tr("trace.never_seen", lang, hop=hop_label(first.side, first.iface, lang))
        if missing is not None and missing.point in self.uncaptured:
            return tr("trace.seen_guest_uncaptured" if missing.side == "guest" else "trace.seen_uncaptured",
                      lang, last=hop_label(last.side, last.iface, lang),
                      missing=hop_label(missing.side, missing.iface, lang))
        if missing is not None:
            return tr("trace.seen_not_on", lang, last=hop_label(last.side, last.iface, lang),
                        missing=hop_label(missing.side, missing.iface, lang))
        if self.reply_seen_anywhere():
            # In the order the reply travels (the request's path backwards), so the line
            # reads as a path: "guest eth0, host vnet0, host br0", never alphabetically.
            back = {h.point: i for i, h in enumerate(reversed(self.hops))}
            points = sorted({p for points in self.reply_seen.values() for p in points},
                            key=lambda p: (back.get(p, len(back)), p.side, p.iface))
            hops = join((hop_label(p.side, p.iface, lang) for p in points), lang)
            return tr("trace.reply_lost", lang, last=hop_label(last.side, last.iface, lang), hops=hops)
        if not any(h.side == "guest" for h in self.hops):
            # Nothing listened in the guest: whether it sent a reply was not observed.
            return tr("trace.no_reply_unseen", lang, last=hop_label(last.side, last.iface, lang))
        return tr("trace.no_reply", lang, last=hop_label(last.side, last.iface, lang))

    def line(self, lang: str = "en") -> str:
        """``sender → dst: where`` — the leg as one evidence line."""
        return tr("trace.leg", lang, sender=self.sender, dst=self.dst, where=self.where(lang))

    def evidence(self, lang: str = "en") -> Evidence:
        """:meth:`line` as evidence, attributed to the path capture that saw (or missed) the packets."""
        return Evidence(self.line(lang), "capture.path", self.capture_vantage)


@dataclass(frozen=True)
class Trace:
    forward: Leg | None
    reverse: Leg | None
    capture: Observation
    packets: tuple[PacketRow, ...] = ()
    # What the kernel said about the probe packets (kernel.drops), one per kernel.
    kernel: tuple[Observation, ...] = ()

    @property
    def reachable(self) -> bool | None:
        if self.forward is None or not self.forward.echo.ok:
            return None
        both = self.forward.ok and (self.reverse is None or not self.reverse.echo.ok or self.reverse.ok)
        return both


# How long the pings wait for replies: normally, and when a device on the path cannot pass a
# packet (then no reply can come; the short wait only lets the capture see how far they got).
REPLY_TIMEOUT_S = 1.0
DEAD_PATH_TIMEOUT_S = 0.1


def dead_hop(path: Path, links: Mapping[str, Sequence[object]], ports: Sequence[object] = ()) -> Hop | None:
    """The first hop of the path no packet can cross, by the links read just before the pings.

    ``links``: each vantage's (``str(vantage)``) link rows; ``ports``: the host's bridge
    ports. A device that is down or has no carrier passes nothing (the kernel swaps its
    qdisc for one that drops everything); a bridge port that is no longer the bridge's
    (``nomaster``) gets nothing the bridge forwards, and one that is not forwarding
    (listening, learning, blocking, disabled) passes no frame either way. A device that
    was not read (a libvirt guest's, seen through its agent) says nothing either way, nor
    does an uplink: bridged straight through, every other port of the bridge is one, and
    the target is behind only one of them.
    """
    bridge = next((h.iface for h in path.hops if h.role == "bridge"), None)
    for hop in path.hops:
        if hop.role == "uplink":
            continue
        link = next((r for r in links.get(str(hop.vantage), ()) if isinstance(r, LinkRow) and r.name == hop.iface),
                    None)
        if link is None:
            continue
        if not link.admin_up or not link.carrier:
            return hop
        if hop.role == "port" and bridge is not None:
            port = next((p for p in ports if isinstance(p, BridgePortRow) and p.port == hop.iface), None)
            if link.master != bridge or (port is not None and port.bridge == bridge and port.state != "forwarding"):
                return hop
    return None


def run_trace(
    path: Path,
    sender: Vantage,
    dst: str,
    reverse_sender: Vantage | None,
    reverse_dst: str | None,
    hop_side: dict[tuple[str, str], str],
    count: int = 3,
    timeout: float = REPLY_TIMEOUT_S,
    kernel: bool = True,
    observe: Callable[..., Observation] | None = None,
) -> Trace:
    """Ping forward (and back, when the other end is a vantage) while capturing on the path.

    ``observe`` is the engine's observer (``observe(probe, vantage, refresh=True, **params)``):
    the pings are observations like any other, so a recording can serve them back.
    """
    ping = partial(observe, refresh=True) if observe is not None else run_probe
    points = path.capture_points()
    cap = Capture(points, bpf="icmp or arp")
    failed: dict[str, str] = {}
    started = time.perf_counter()
    try:
        failed = cap.start()
    except Exception as exc:  # noqa: BLE001 - a capture that cannot run is reported, not raised
        failed = {WHOLE_CAPTURE: str(exc)}
    failures = capture_failures(points, failed)
    unopened = {(f.vantage, f.iface) for f in failures}
    whole_failed = any(not f.iface for f in failures)
    fwd_ident = random.randint(1, 0x7FFF)
    rev_ident = fwd_ident + 0x8000
    both = reverse_sender is not None and bool(reverse_dst)
    legs = [("forward", sender, fwd_ident, count)]
    if both and reverse_sender is not None:
        legs.append(("reverse", reverse_sender, rev_ident, count))
    window = KernelWindow(path, legs, enabled=kernel)
    try:
        window.open()
        with ThreadPoolExecutor(max_workers=2) as pool:
            fwd = pool.submit(ping, "icmp.echo", sender, dst=dst, count=count, timeout=timeout,
                              ident=fwd_ident, size=window.sizes["forward"])
            rev = (
                pool.submit(ping, "icmp.echo", reverse_sender, dst=reverse_dst, count=count,
                            timeout=timeout, ident=rev_ident, size=window.sizes["reverse"])
                if both and reverse_sender is not None
                else None
            )
            fwd_obs = fwd.result()
            rev_obs = rev.result() if rev is not None else None
        packets = cap.stop(linger=0.05)
    finally:
        kernel_obs = window.close()  # the capture lingered already: drain, do not wait again
    capture_obs = Observation(
        probe="capture.path",
        vantage=str(path.hops[0].vantage) if path.hops else str(sender),
        status="ok" if points and len(failed) < len(points) else "skipped",
        rows=(*packets, *failures),  # the frames, and the points not listened on (as data)
        raw="; ".join(f"{k}: {v}" for k, v in failed.items()) or f"listened on {', '.join(f'{i}@{v}' for v, i in points)}",
        reason="" if points and len(failed) < len(points) else ("no interface on the path to listen on" if not points else "; ".join(f"{k}: {v}" for k, v in failed.items())),
        duration_ms=(time.perf_counter() - started) * 1000,
        params=(("filter", "icmp or arp"),),
        layer="datalink",
    )

    def label_seen(ident: int, kind: PacketKind) -> dict[str, tuple[PathPoint, ...]]:
        out: dict[str, list[PathPoint]] = {}
        for p in packets:
            tag = ProbeTag.read(p.tag)
            if tag is None or not tag.of_ping(ident) or p.kind != kind:
                continue
            seq = tag.seq
            side = hop_side.get((p.vantage, p.iface), "host" if p.vantage == str(sender) else "?")
            point = PathPoint(side, p.iface)
            if point not in out.setdefault(seq, []):
                out[seq].append(point)
        return {k: tuple(v) for k, v in out.items()}

    fwd_hops = path.hops
    uncaptured = frozenset(h.point for h in fwd_hops if (str(h.vantage), h.iface) in unopened or whole_failed)

    def untracked(obs: Observation, ident: int) -> bool:
        # A guest's own ping without `-e` picks its identifier: our capture cannot tell its packets.
        return obs.ok and any(getattr(r, "ident", ident) != ident for r in obs.rows)

    forward = Leg("forward", sender, dst, fwd_ident, fwd_obs, fwd_hops,
                  label_seen(fwd_ident, PacketKind.ECHO_REQUEST), label_seen(fwd_ident, PacketKind.ECHO_REPLY),
                  capture_obs.vantage, uncaptured, untracked(fwd_obs, fwd_ident))
    reverse = None
    if rev_obs is not None and reverse_sender is not None and reverse_dst:
        reverse = Leg("reverse", reverse_sender, reverse_dst, rev_ident, rev_obs, tuple(reversed(fwd_hops)),
                      label_seen(rev_ident, PacketKind.ECHO_REQUEST), label_seen(rev_ident, PacketKind.ECHO_REPLY),
                      capture_obs.vantage, uncaptured, untracked(rev_obs, rev_ident))
    return Trace(forward, reverse, capture_obs, tuple(packets), kernel_obs)
