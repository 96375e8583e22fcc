"""The guest↔host path: which interfaces a probe packet crosses, on which side.

Worked out from what the two vantages report, never from names: the host's
route to the guest gives its interface on the guest's segment; the guest's NIC is
paired with its host end by the veth peer indexes each side reports (both must
agree), or by the bridge's forwarding table, or, for a libvirt guest, by the
domain XML's tap device. The path is what captures listen on, and what the
checks walk along.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vnetdoctor.probes.vantage import Vantage

if TYPE_CHECKING:
    from .context import StepContext


@dataclass(frozen=True)
class PathPoint:
    """One interface of the path as the verdict records it (``Diagnosis.extra["path"]``).

    Which side and which interface, as data: replay listens on these points again and
    the verdict names them, so they are never written as ``"side:iface"`` to be split.
    """

    side: str  # "host" | "guest"
    iface: str


@dataclass(frozen=True)
class Hop:
    vantage: Vantage
    iface: str
    side: str  # "host" | "guest"
    role: str  # "bridge", "port", "nic", "uplink", "routed"

    def label(self) -> str:
        return f"{self.side} {self.iface}"

    @property
    def point(self) -> PathPoint:
        """Which side and interface, as data (what the trace records where a packet was seen)."""
        return PathPoint(self.side, self.iface)


@dataclass(frozen=True)
class Path:
    target: str | None
    from_side: str
    outside: bool = False  # the target is beyond the host (guest → outside peer)
    host_ip: str | None = None  # the host's address on the guest's segment
    guest_ip: str | None = None
    host_dev: str | None = None  # host interface towards the guest (a bridge, or a routed tap/veth)
    host_bridge: str | None = None
    host_port: str | None = None  # the host end of the guest's link (tap or veth)
    host_port_master: str | None = None  # what that end is enslaved to ("" when none)
    guest_dev: str | None = None
    guest_mac: str | None = None
    uplink: str | None = None  # the host's way out towards an outside target
    bridged_through: bool = False  # the target sits behind the same bridge as the guest
    hops: tuple[Hop, ...] = ()
    # Listened on but not part of the path's order: the host's other interfaces when the
    # target is outside, where an asymmetric return path shows up.
    extra: tuple[Hop, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def capture_points(self) -> list[tuple[Vantage, str]]:
        seen: list[tuple[Vantage, str]] = []
        for hop in (*self.hops, *self.extra):
            if (hop.vantage, hop.iface) not in seen:
                seen.append((hop.vantage, hop.iface))
        return seen


def rows_of(ctx: StepContext, probe: str, vantage: Vantage | None, **params: Any) -> list[Any]:
    if vantage is None:
        return []
    obs = ctx.observe(probe, vantage, **params)
    return list(obs.rows) if obs.ok else []


def lookup(ctx: StepContext, vantage: Vantage | None, dst: str | None) -> Any:
    if vantage is None or not dst:
        return None
    rows = rows_of(ctx, "route.lookup", vantage, dst=dst)
    return rows[0] if rows else None


def _in_subnet(ip: str, addr: Any) -> bool:
    try:
        net = ipaddress.ip_interface(f"{addr.address}/{addr.prefixlen}").network
        return ipaddress.ip_address(ip) in net
    except ValueError:
        return False


def global_v4(addrs: list[Any], dev: str | None = None) -> list[Any]:
    return [
        a
        for a in addrs
        if a.family == "inet" and a.scope != "host" and (dev is None or a.ifname == dev)
        and not a.address.startswith("127.")
    ]


def pair_links(host_links: list[Any], guest_links: list[Any]) -> list[tuple[Any, Any]]:
    """(host link, guest link) pairs that are two ends of one veth, both sides agreeing."""
    pairs = []
    for g in guest_links:
        if g.kind != "veth" or not g.peer_ifindex:
            continue
        for h in host_links:
            if h.kind == "veth" and h.ifindex == g.peer_ifindex and h.peer_ifindex == g.ifindex:
                pairs.append((h, g))
    return pairs


def compute_path(ctx: StepContext) -> Path:
    req = ctx.request
    host, guest = req.host, req.guest
    target = ctx.target
    notes: list[str] = []
    host_links = rows_of(ctx, "link.list", host)
    host_addrs = rows_of(ctx, "addr.list", host)
    guest_links = rows_of(ctx, "link.list", guest)
    guest_addrs = rows_of(ctx, "addr.list", guest)
    hl_by_name = {link.name: link for link in host_links}
    gl_by_name = {link.name: link for link in guest_links}

    host_ip = guest_ip = host_dev = guest_dev = uplink = None
    outside = False
    host_own = {a.address for a in host_addrs}

    if req.from_side == "host":
        guest_ip = target
        hl = lookup(ctx, host, target)
        if hl is not None and hl.type in ("unicast", "local") and hl.dev:
            host_dev = hl.dev
            host_ip = hl.prefsrc or None
    else:
        gl = lookup(ctx, guest, target) if guest else None
        if gl is not None and gl.type == "unicast" and gl.dev:
            guest_dev = gl.dev
            guest_ip = gl.prefsrc or None
        if target and target not in host_own and host_links:
            outside = True
            ul = lookup(ctx, host, target)
            if ul is not None and ul.type == "unicast" and ul.dev:
                uplink = ul.dev
        elif target:
            host_ip = target

    # The guest's NIC: the one its route uses, else the one paired with a host link, else
    # the one holding the guest address, else its only non-loopback interface.
    pairs = pair_links(host_links, guest_links)
    if guest_dev is None and guest_links:
        if guest_ip:
            owners = [a.ifname for a in global_v4(guest_addrs) if a.address == guest_ip]
            guest_dev = owners[0] if owners else None
        if guest_dev is None and pairs:
            guest_dev = pairs[0][1].name
        if guest_dev is None:
            nics = [link.name for link in guest_links if link.kind != "loopback" and link.name != "lo"]
            guest_dev = nics[0] if len(nics) == 1 else None
    if guest_ip is None and guest_dev:
        mine = global_v4(guest_addrs, guest_dev)
        guest_ip = mine[0].address if mine else None
    guest_row = gl_by_name.get(guest_dev or "")
    guest_mac = guest_row.mac if guest_row is not None else None

    # The host end of the guest's link.
    host_port = None
    for h, g in pairs:
        if guest_row is None or g.name == guest_row.name:
            host_port = h.name
            break
    if host_port is None and guest is not None and guest.kind == "libvirt":
        host_port = _libvirt_tap(ctx, guest, guest_mac)
    if host_port is None and guest_mac:
        for fdb in rows_of(ctx, "bridge.fdb", host):
            if fdb.mac == guest_mac and not fdb.is_local:
                host_port = fdb.port
                break
    port_row = hl_by_name.get(host_port or "")
    host_port_master = port_row.master if port_row is not None else None

    if host_dev is None and guest_ip:
        hl = lookup(ctx, host, guest_ip)
        if hl is not None and hl.type in ("unicast",) and hl.dev:
            host_dev = hl.dev
            host_ip = host_ip or hl.prefsrc or None
    if host_dev is None and port_row is not None:
        host_dev = port_row.master or port_row.name
    if host_dev is None and guest_ip:
        for a in global_v4(host_addrs):
            if _in_subnet(guest_ip, a):
                host_dev = a.ifname
                break

    host_bridge = None
    dev_row = hl_by_name.get(host_dev or "")
    if dev_row is not None and dev_row.kind == "bridge":
        host_bridge = dev_row.name
    elif port_row is not None and port_row.master and hl_by_name.get(port_row.master, None) is not None:
        if hl_by_name[port_row.master].kind == "bridge":
            host_bridge = port_row.master
    if host_ip is None:
        for dev in (host_dev, host_bridge):
            mine = global_v4(host_addrs, dev) if dev else []
            if guest_ip:
                mine = [a for a in mine if _in_subnet(guest_ip, a)] or mine
            if mine:
                host_ip = mine[0].address
                break

    bridged_through = bool(outside and uplink and host_bridge and uplink == host_bridge)
    hops = _hops(req.from_side, host, guest, host_dev, host_bridge, host_port, guest_dev, uplink, outside,
                 bridged_through, host_links)
    if host_port is None and guest is not None:
        notes.append("could not pair the guest's NIC with a host interface")
    extra: tuple[Hop, ...] = ()
    if outside:
        on_path = {h.iface for h in hops if h.side == "host"}
        extra = tuple(
            Hop(host, link.name, "host", "other")
            for link in host_links
            if link.name not in on_path and link.name != "lo" and link.kind != "loopback" and link.admin_up
        )[:16]
    return Path(
        target=target,
        from_side=req.from_side,
        outside=outside,
        host_ip=host_ip,
        guest_ip=guest_ip,
        host_dev=host_dev,
        host_bridge=host_bridge,
        host_port=host_port,
        host_port_master=host_port_master,
        guest_dev=guest_dev,
        guest_mac=guest_mac,
        uplink=uplink,
        bridged_through=bridged_through,
        hops=hops,
        extra=extra,
        notes=tuple(notes),
    )


def _libvirt_tap(ctx: StepContext, guest: Vantage, guest_mac: str | None) -> str | None:
    rows = rows_of(ctx, "libvirt.interfaces", guest, domain=guest.name)
    for r in rows:
        target = getattr(r, "target", "") or getattr(r, "target_dev", "")
        if target and (guest_mac is None or getattr(r, "mac", "").lower() == guest_mac.lower()):
            return target
    return None


def _hops(
    from_side: str,
    host: Vantage,
    guest: Vantage | None,
    host_dev: str | None,
    host_bridge: str | None,
    host_port: str | None,
    guest_dev: str | None,
    uplink: str | None,
    outside: bool,
    bridged_through: bool,
    host_links: list[Any],
) -> tuple[Hop, ...]:
    host_side: list[Hop] = []
    if host_bridge and not bridged_through:
        host_side.append(Hop(host, host_bridge, "host", "bridge"))
    elif host_dev and host_dev != host_port and not bridged_through:
        host_side.append(Hop(host, host_dev, "host", "routed"))
    port = [Hop(host, host_port, "host", "port")] if host_port else []
    guest_side = [Hop(guest, guest_dev, "guest", "nic")] if guest is not None and guest_dev else []
    if from_side == "host":
        return tuple(host_side + port + guest_side)
    out: list[Hop] = []
    if outside and bridged_through and host_bridge:
        # Bridged straight through: the bridge device never sees the frames, its other ports do.
        others = [
            Hop(host, link.name, "host", "uplink")
            for link in host_links
            if link.master == host_bridge and link.name != host_port
        ]
        out = others
    elif outside and uplink:
        out = [Hop(host, uplink, "host", "uplink")]
    return tuple(guest_side + port + host_side + out)


def subnet_of(addr: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """The network an address row (address, prefixlen) lies in: what "same subnet" compares."""
    return ipaddress.ip_interface(f"{addr.address}/{addr.prefixlen}").network
