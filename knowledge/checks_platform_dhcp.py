"""Platform layer, libvirt DHCP: a lease for each guest NIC, and what it takes to get one.

What a real daemon showed: "no lease" has several faults behind it, and each has a
different fix. dnsmasq may be dead while the network is active (only the process
list tells); the range may be full (a reservation helps only then, and never for a
MAC that already has a static ``<host>`` entry); or the guest never asked (its own
client, ``dhclient`` or busybox ``udhcpc``, asks again). A lease is no proof either:
a stale one while the agent shows no IPv4 on that NIC is not a pass.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from vnetdoctor.probes.libvirt_xml import network_has_dhcp
from vnetdoctor.probes.vantage import Vantage

from .context import StepContext
from .model import Evidence
from .platform_fixes import contains, each, found, only, subnet_of, taps_to_reattach


def check_leases(
    ctx: StepContext, guest: Vantage, uri: str, domain: str, ifaces: list[Any], notes: list[str]
) -> list[str]:
    """Name ``libvirt.dhcp_no_lease`` with the fixes that fit; return what makes the step not pass."""
    on_nets = [i for i in ifaces if i.type == "network" and i.network and i.link_state != "down"]
    if not on_nets:
        return []
    net_obs = ctx.observe("libvirt.networks", guest)
    nets = {n.name: n for n in net_obs.rows} if net_obs.ok else {}
    dhcp_ifaces = [
        i for i in on_nets
        if (net := nets.get(i.network)) is not None and net.active and network_has_dhcp(net)
    ]
    if not dhcp_ifaces:
        return []
    lease_obs = ctx.observe("libvirt.leases", guest, domain=domain)
    if not lease_obs.ok:
        # Said in the note; the domain, its interfaces and networks were seen, so the step
        # can still pass on those (a lease only proves DHCP, which the guest may not use).
        ctx.optional("libvirt.leases", guest)
        notes.append(ctx.t("platform.leases_unavailable", reason=lease_obs.reason))
        return []
    leased = {lease.mac: lease for lease in lease_obs.rows}
    agent_ifaces = agent_interfaces(ctx, guest)
    not_passing: list[str] = []
    for iface in dhcp_ifaces:
        net = nets[iface.network]
        subnet = subnet_of(net.address, net.prefixlen)
        guest_nic, guest_addrs = agent_ifaces.get(iface.mac, ("", ()))
        mine = [a for a in guest_addrs if subnet is not None and contains(a, subnet)]
        lease = leased.get(iface.mac)
        stale = ""
        if lease is not None:
            if not (guest_nic and not mine):
                notes.append(ctx.t("platform.lease", ip=lease.ip, mac=iface.mac))
                continue
            # dnsmasq's lease file remembers a lease the guest no longer holds: not a working DHCP.
            stale = ctx.t("platform.lease_stale", ip=lease.ip, mac=iface.mac, dev=guest_nic)
            if not _dnsmasq_dead(ctx, guest, uri, net.name):
                not_passing.append(stale)
                continue
        elif mine:
            notes.append(ctx.t("platform.static_address", mac=iface.mac, ip=mine[0], dev=guest_nic))
            continue
        _no_lease(ctx, guest, uri, domain, iface, net, net_obs, lease_obs, guest_nic, subnet, stale)
    return not_passing


def _dnsmasq_dead(ctx: StepContext, guest: Vantage, uri: str, network: str) -> bool:
    """Seen: no dnsmasq process serves this active network (False when it could not be looked at)."""
    obs = ctx.observe("libvirt.dnsmasq", guest, uri=uri, host=str(ctx.host))
    return obs.ok and not any(r.network == network for r in obs.rows)


def _no_lease(ctx: StepContext, guest: Vantage, uri: str, domain: str, iface: Any, net: Any, net_obs: Any,
              lease_obs: Any, guest_nic: str, subnet: Any, stale: str = "") -> None:
    evidence: list[str | Evidence] = [
        ctx.evidence(
            ctx.t("platform.dhcp_range", network=net.name, start=net.dhcp_start, end=net.dhcp_end)
            if net.dhcp_start else ctx.t("platform.dhcp_static_hosts", network=net.name, count=net.static_hosts),
            net_obs,
        ),
        ctx.evidence(stale or ctx.t("platform.no_lease", domain=domain, mac=iface.mac, network=net.name), lease_obs),
    ]
    if guest_nic:
        evidence.append(Evidence(ctx.t("platform.guest_no_ipv4_in", dev=guest_nic, subnet=subnet),
                                 "guest.interfaces", str(guest)))
    whens: list[str] = []
    extra: list[Any] = []
    dns_obs = ctx.observe("libvirt.dnsmasq", guest, uri=uri, host=str(ctx.host))
    if _dnsmasq_dead(ctx, guest, uri, net.name):
        evidence.append(ctx.evidence(ctx.t("platform.dnsmasq_dead", network=net.name), dns_obs))
        whens.append("dnsmasq=dead")
        extra = each(ctx, "libvirt.dhcp_no_lease", "step=reattach",
                     taps_to_reattach(ctx, guest, net.name, net.bridge, restart=True), ctx.host)
    else:
        ctx.optional("libvirt.dnsmasq", guest)  # its absence only sharpens the fix
    ip = None
    if iface.mac in net.host_macs:
        evidence.append(ctx.evidence(ctx.t("platform.static_host_entry", mac=iface.mac, network=net.name), net_obs))
    else:
        ip = _reservable(ctx, guest, net)
        if ip is not None:
            whens.append("range=exhausted")
            evidence.append(ctx.evidence(ctx.t("platform.range_exhausted", network=net.name), net_obs))
    client = _guest_client(ctx, guest) if guest_nic else None
    # The client the guest has asks again; not known which: both, as guidance (no NIC value).
    whens += [f"client={client}"] if client else ["client=dhclient", "client=udhcpc"]
    found(
        ctx, "libvirt.dhcp_no_lease", evidence, uri=uri, guest=guest, keep=only(*whens), extra=extra,
        join=2 if "dnsmasq=dead" in whens else 1, domain=domain, network=net.name, mac=iface.mac, iface=iface.target or iface.mac,
        dev=(guest_nic or None) if client else None, bridge=net.bridge, ip=ip,
    )


def _reservable(ctx: StepContext, guest: Vantage, net: Any) -> str | None:
    """An address to reserve, only when every address of the range is leased: inside the
    subnet, outside the range, not the host's and leased to nobody (None otherwise)."""
    try:
        start, end = ipaddress.IPv4Address(net.dhcp_start), ipaddress.IPv4Address(net.dhcp_end)
        subnet = ipaddress.IPv4Interface(f"{net.address}/{net.prefixlen}").network
    except ValueError:
        return None
    obs = ctx.observe("libvirt.leases", guest, network=net.name)
    if not obs.ok:
        return None
    taken = {lease.ip for lease in obs.rows}
    in_range = [ip for ip in taken if _between(ip, start, end)]
    if len(in_range) < int(end) - int(start) + 1:
        return None  # free addresses remain: a reservation is not what is missing
    for host in subnet.hosts():
        if str(host) != net.address and not start <= host <= end and str(host) not in taken:
            return str(host)
    return None


def _between(ip: str, start: ipaddress.IPv4Address, end: ipaddress.IPv4Address) -> bool:
    try:
        return start <= ipaddress.IPv4Address(ip) <= end
    except ValueError:
        return False


def _guest_client(ctx: StepContext, guest: Vantage) -> str | None:
    obs = ctx.observe("guest.dhcp_client", guest)
    if not obs.ok:
        ctx.optional("guest.dhcp_client", guest)  # without it, no guest-side fix is offered
        return None
    return obs.rows[0].name if obs.rows else None


def agent_interfaces(ctx: StepContext, guest: Vantage) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Guest NIC name and IPv4 addresses by MAC, from the agent ({} without one)."""
    obs = ctx.observe("guest.interfaces", guest)
    if not obs.ok:
        ctx.optional("guest.interfaces", guest)  # the agent only tells a static address from a missing lease
        return {}
    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    for r in obs.rows:
        if hasattr(r, "addresses"):
            v4 = tuple(a.split("/")[0] for a in r.addresses if ":" not in a)
            out[r.mac] = (r.name, v4)
    return out
