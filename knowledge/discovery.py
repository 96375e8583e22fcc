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


def _status_line(step: str, obs: Observation) -> str:
    return f"{step}: {obs.status}: {obs.reason}" if obs.reason else f"{step}: {obs.status}"


def _from_agent(observe: ObserveFn, guest: Vantage, macs: Sequence[str]) -> tuple[str | None, str]:
    obs = observe("guest.interfaces", guest)
    if not obs.ok:
        return None, _status_line("agent", obs)
    nic_mac = {r.name: r.mac for r in obs.rows if hasattr(r, "addresses")}
    candidates = [
        r for r in obs.rows
        if getattr(r, "family", "") == "inet" and _usable_v4(r.address)
    ]
    if not candidates:
        return None, "agent: the guest has no usable IPv4 address"
    # The address on the NIC that is the domain interface we follow, in XML order.
    for mac in macs:
        for addr in candidates:
            if nic_mac.get(addr.ifname, "").lower() == mac:
                return addr.address, f"agent: {addr.address} on {addr.ifname} ({mac})"
    addr = candidates[0]
    return addr.address, f"agent: {addr.address} on {addr.ifname}"


def _from_leases(observe: ObserveFn, guest: Vantage, macs: Sequence[str]) -> tuple[str | None, str]:
    obs = observe("libvirt.leases", guest, domain=guest.name)
    if not obs.ok:
        return None, _status_line("lease", obs)
    for mac in macs:
        for lease in obs.rows:
            if lease.mac == mac and _usable_v4(lease.ip):
                return lease.ip, f"lease: {lease.ip} for {mac} on {lease.network}"
    return None, f"lease: none for {', '.join(macs)}"


def _from_neighbours(observe: ObserveFn, host: Vantage, macs: Sequence[str]) -> tuple[str | None, str]:
    obs = observe("neigh.list", host)
    if not obs.ok:
        return None, _status_line("neighbour", obs)
    for mac in macs:
        entries = [
            n for n in obs.rows
            if n.lladdr.lower() == mac and n.family == "inet" and n.state in _NEIGH_RANK
            and _usable_v4(n.address)
        ]
        if entries:
            best = min(entries, key=lambda n: _NEIGH_RANK[n.state])
            return best.address, f"neighbour: {best.address} on {best.ifname} ({best.state.lower()})"
    return None, f"neighbour: none for {', '.join(macs)} on {host}"


def _from_namespace(observe: ObserveFn, guest: Vantage) -> tuple[str | None, list[str]]:
    obs = observe("addr.list", guest)
    if not obs.ok:
        return None, [_status_line("guest addresses", obs)]
    found = [r for r in obs.rows if r.family == "inet" and _usable_v4(r.address)]
    if len(found) == 1:
        return found[0].address, [f"guest: {found[0].address} on {found[0].ifname}"]
    if not found:
        return None, ["guest: no usable IPv4 address"]
    listed = ", ".join(f"{r.address} on {r.ifname}" for r in found)
    return None, [f"guest: several addresses ({listed}): give --target"]


def discover_target(
    guest: Vantage | None,
    host: Vantage,
    observe: ObserveFn | None = None,
) -> tuple[str | None, list[str]]:
    """The guest's IPv4 address and how it was found (one evidence line per step tried).

    ``observe(probe_id, vantage, **params)`` defaults to running the probe; the
    engine passes ``StepContext.observe`` so the observations are recorded.
    """
    obs_fn: ObserveFn = observe or run_probe
    if guest is None:
        return None, ["no guest vantage: give --target"]
    if guest.kind != "libvirt":
        return _from_namespace(obs_fn, guest)

    lines: list[str] = []
    ifaces = obs_fn("libvirt.interfaces", guest, domain=guest.name)
    macs: list[str] = []
    if ifaces.ok:
        macs = [r.mac for r in ifaces.rows if r.mac]
    else:
        lines.append(_status_line("domain interfaces", ifaces))

    ip, line = _from_agent(obs_fn, guest, macs)
    lines.append(line)
    if ip:
        return ip, lines
    if not macs:
        lines.append("lease: no interface MAC to look up" if not ifaces.ok else "lease: the domain has no interface")
        return None, lines
    for step in (
        lambda: _from_leases(obs_fn, guest, macs),
        lambda: _from_neighbours(obs_fn, host, macs),
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
    ip, lines = discover_target(guest, ctx.host, observe=ctx.observe)
    ctx.facts["discovery"] = tuple(lines)
    for line in lines:
        ctx.note(line)
    if ip:
        ctx.facts["target"] = ip
    return ip


def describe(lines: Sequence[str]) -> str:
    """The evidence lines as one note ("agent: …; lease: …; neighbour: …")."""
    return "; ".join(lines)


__all__ = ["describe", "discover_into", "discover_target"]
