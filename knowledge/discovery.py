"""Find a libvirt guest's address when the operator gave none: agent, then lease, then ARP.

The same order virt-manager and ``virsh domifaddr --source agent|lease|arp``
use, from the most to the least direct: the guest's own view of its
addresses (qemu-guest-agent), the DHCP lease dnsmasq handed to the domain
interface's MAC, and finally the host's neighbour table entry for that MAC
(which exists only when the two have talked recently). Each step says what it
found or why it could not look, so the operator sees how the target was
chosen — and, when nothing was found, why.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from vnetdoctor.probes.base import Observation, run_probe
from vnetdoctor.probes.vantage import Vantage

from .text import join, join_clauses, probe_reason, tr

if TYPE_CHECKING:
    from .context import StepContext

ObserveFn = Callable[..., Observation]

# Neighbour states worth trusting, best first (INCOMPLETE/FAILED carry no MAC answer).
_NEIGH_RANK = {"REACHABLE": 0, "PERMANENT": 1, "DELAY": 2, "PROBE": 3, "STALE": 4, "NOARP": 5}


def _usable_v4(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.version == 4 and not (ip.is_loopback or ip.is_link_local or ip.is_unspecified)


def _status_line(source: str, obs: Observation, lang: str) -> str:
    """``agent: skipped: no guest agent …``: a source that could not be asked, and why."""
    status = {
        "skipped": tr("discovery.status_skipped", lang),
        "error": tr("discovery.status_error", lang),
    }.get(obs.status, obs.status)
    if obs.reason:
        return tr("discovery.status_reason", lang, source=source, status=status, reason=probe_reason(obs.reason or "", lang))
    return tr("discovery.status", lang, source=source, status=status)


def _from_agent(observe: ObserveFn, guest: Vantage, macs: Sequence[str], lang: str) -> tuple[str | None, str]:
    obs = observe("guest.interfaces", guest)
    if not obs.ok:
        return None, _status_line(tr("discovery.source_agent", lang), obs, lang)
    nic_mac = {r.name: r.mac for r in obs.rows if hasattr(r, "addresses")}
    candidates = [
        r for r in obs.rows
        if getattr(r, "family", "") == "inet" and _usable_v4(r.address)
    ]
    if not candidates:
        return None, tr("discovery.agent_no_ipv4", lang)
    # The address on the NIC that is the domain interface we follow, in XML order.
    for mac in macs:
        for addr in candidates:
            if nic_mac.get(addr.ifname, "").lower() == mac:
                return addr.address, tr("discovery.agent_found_mac", lang, ip=addr.address, dev=addr.ifname, mac=mac)
    addr = candidates[0]
    return addr.address, tr("discovery.agent_found", lang, ip=addr.address, dev=addr.ifname)


def _from_leases(observe: ObserveFn, guest: Vantage, macs: Sequence[str], lang: str) -> tuple[str | None, str]:
    obs = observe("libvirt.leases", guest, domain=guest.name)
    if not obs.ok:
        return None, _status_line(tr("discovery.source_lease", lang), obs, lang)
    for mac in macs:
        for lease in obs.rows:
            if lease.mac == mac and _usable_v4(lease.ip):
                return lease.ip, tr("discovery.lease_found", lang, ip=lease.ip, mac=mac, network=lease.network)
    return None, tr("discovery.lease_none", lang, macs=join(macs, lang))


def _from_neighbours(observe: ObserveFn, host: Vantage, macs: Sequence[str], lang: str) -> tuple[str | None, str]:
    obs = observe("neigh.list", host)
    if not obs.ok:
        return None, _status_line(tr("discovery.source_neighbour", lang), obs, lang)
    for mac in macs:
        entries = [
            n for n in obs.rows
            if n.lladdr.lower() == mac and n.family == "inet" and n.state in _NEIGH_RANK
            and _usable_v4(n.address)
        ]
        if entries:
            best = min(entries, key=lambda n: _NEIGH_RANK[n.state])
            return best.address, tr("discovery.neighbour_found", lang, ip=best.address, dev=best.ifname,
                                      state=best.state.lower())
    return None, tr("discovery.neighbour_none", lang, macs=join(macs, lang), host=host)


def _from_namespace(
    observe: ObserveFn, guest: Vantage, lang: str, audience: str = "cli"
) -> tuple[str | None, list[str]]:
    obs = observe("addr.list", guest)
    if not obs.ok:
        return None, [_status_line(tr("discovery.source_guest_addresses", lang), obs, lang)]
    found = [r for r in obs.rows if r.family == "inet" and _usable_v4(r.address)]
    if len(found) == 1:
        return found[0].address, [tr("discovery.guest_found", lang, ip=found[0].address, dev=found[0].ifname)]
    if not found:
        return None, [tr("discovery.guest_no_ipv4", lang)]
    listed = join((tr("discovery.address_on", lang, ip=r.address, dev=r.ifname) for r in found), lang)
    return None, [tr("discovery.guest_several", lang, audience=audience, addresses=listed)]


def discover_target(
    guest: Vantage | None,
    host: Vantage,
    observe: ObserveFn | None = None,
    *,
    lang: str = "en",
    audience: str = "cli",
) -> tuple[str | None, list[str]]:
    """The guest's IPv4 address and how it was found (one evidence line per step tried).

    ``observe(probe_id, vantage, **params)`` defaults to running the probe; the
    engine passes ``StepContext.observe`` so the observations are recorded. The
    lines are in ``lang`` (``data/evidence.toml``), and name no CLI flag for
    ``audience="tui"``.
    """
    obs_fn: ObserveFn = observe or run_probe
    if guest is None:
        return None, [tr("discovery.no_guest", lang, audience=audience)]
    if guest.kind != "libvirt":
        return _from_namespace(obs_fn, guest, lang, audience)

    lines: list[str] = []
    ifaces = obs_fn("libvirt.interfaces", guest, domain=guest.name)
    macs: list[str] = []
    if ifaces.ok:
        macs = [r.mac for r in ifaces.rows if r.mac]
    else:
        lines.append(_status_line(tr("discovery.source_domain_interfaces", lang), ifaces, lang))

    ip, line = _from_agent(obs_fn, guest, macs, lang)
    lines.append(line)
    if ip:
        return ip, lines
    if not macs:
        lines.append(tr("discovery.lease_no_mac", lang) if not ifaces.ok else tr("discovery.lease_no_interface", lang))
        return None, lines
    for step in (
        lambda: _from_leases(obs_fn, guest, macs, lang),
        lambda: _from_neighbours(obs_fn, host, macs, lang),
    ):
        ip, line = step()
        lines.append(line)
        if ip:
            return ip, lines
    return None, lines


def discover_into(ctx: StepContext) -> str | None:
    """For the engine: with no target and a libvirt guest, find the address and keep it.

    Sets ``ctx.facts["target"]`` (what ``ctx.target`` reads), records the
    observations in the step, and notes each line of how it was found.
    """
    if ctx.target:
        return ctx.target
    guest = ctx.guest
    if guest is None or guest.kind != "libvirt":
        return None
    ip, lines = discover_target(guest, ctx.host, observe=ctx.observe, lang=ctx.lang,
                                audience=ctx.shared.request.audience)
    if ctx.request.from_side == "guest":
        # The guest pings the host: its target is the host's address on the guest's
        # network, never the guest's own address.
        ctx.facts["guest_address"] = ip
        ip, line = host_address(ctx.observe, guest, ctx.host, ctx.lang)
        lines.append(line)
    ctx.facts["discovery"] = tuple(lines)
    for line in lines:
        ctx.note(line)
    if ip:
        ctx.facts["target"] = ip
    return ip


def host_address(observe: ObserveFn, guest: Vantage, host: Vantage, lang: str = "en") -> tuple[str | None, str]:
    """The host's IPv4 address on the network of the guest's first interface, and how it was found.

    A libvirt network carries its own address (``<ip address=…>``: virbrN's); a guest
    bridged onto a host bridge is reached at that bridge's address on the host.
    """
    ifaces = observe("libvirt.interfaces", guest, domain=guest.name)
    if not ifaces.ok:
        return None, _status_line(tr("discovery.source_domain_interfaces", lang), ifaces, lang)
    for iface in ifaces.rows:
        if iface.type == "network" and iface.network:
            nets = observe("libvirt.networks", guest)
            if not nets.ok:
                return None, _status_line(tr("discovery.source_networks", lang), nets, lang)
            for net in nets.rows:
                if net.name == iface.network and _usable_v4(net.address):
                    return net.address, tr("discovery.host_on_network", lang, ip=net.address,
                                             network=net.name, bridge=net.bridge)
        elif iface.type == "bridge" and iface.bridge:
            addrs = observe("addr.list", host)
            for a in addrs.rows if addrs.ok else ():
                if a.ifname == iface.bridge and a.family == "inet" and _usable_v4(a.address):
                    return a.address, tr("discovery.host_on_bridge", lang, ip=a.address, bridge=iface.bridge)
    return None, tr("discovery.host_none", lang)


def describe(lines: Sequence[str], lang: str = "en") -> str:
    """The evidence lines as one note ("agent: …; lease: …; neighbour: …")."""
    return join_clauses(lines, lang)


__all__ = ["describe", "discover_into", "discover_target"]
