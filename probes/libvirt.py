"""libvirt probes: domains, their interfaces, networks, leases, counters, and the path map.

They run on the host side, on a ``local`` vantage (URI ``qemu:///system`` or
``LIBVIRT_DEFAULT_URI``) or on a ``libvirt:DOMAIN@URI`` vantage (that URI). The
``domain`` parameter narrows them to one domain. Without libvirt-python, or
without a connection, each is ``skipped`` with the reason.

The namespace probes (link, addr, route, …) work inside an agent guest through
``run_command``, whose built-in runner for ``libvirt:`` vantages is the
qemu-guest-agent one (``nsexec.guest_runner``; importing this module registers
nothing). This module adds ``guest.interfaces``
(``guest-network-get-interfaces``) for guests whose agent refuses ``guest-exec``.
"""

from __future__ import annotations

from typing import Any

from . import libvirt_dhcp  # noqa: F401 - registers libvirt.dnsmasq and guest.dhcp_client
from .base import ProbeOutput, Skip, probe
from .guest_agent import (
    NO_AGENT,
    AgentCommandError,
    AgentUnavailable,
    agent_command,
    parse_network_interfaces,
)
from .libvirt_conn import (
    LibvirtLookupError,
    connection,
    first_line,
    import_libvirt,
    is_remote_uri,
    is_test_driver,
    is_test_uri,
    lease_source,
    list_domains,
    list_networks,
    uri_for,
)
from .libvirt_xml import (
    count_interfaces,
    has_agent_channel,
    parse_interfaces,
    parse_network,
    reason_name,
    state_name,
)
from .rows_libvirt import DomainIfaceRow, DomainRow, IfStatRow, LeaseRow, NetworkRow, PathRow
from .vantage import LOCAL, Vantage, VantageError, parse_vantage

HOST_SIDE = ("local", "libvirt")
RAW_LIMIT = 64 * 1024


def _clip(text: str) -> str:
    return text if len(text) <= RAW_LIMIT else text[:RAW_LIMIT] + "\n… (truncated)"


def _xml(dom: Any) -> str:
    # Flags 0: the live XML of a running domain (it names the tap), else the config.
    return dom.XMLDesc(0)


def _domain_row(libvirt: Any, dom: Any) -> DomainRow:
    state, reason = dom.state()
    xml = _xml(dom)
    try:
        autostart = bool(dom.autostart())
    except libvirt.libvirtError:
        autostart = False
    return DomainRow(
        name=dom.name(),
        state=state_name(state),
        reason=reason_name(libvirt, state, reason),
        autostart=autostart,
        persistent=bool(dom.isPersistent()),
        agent_channel=has_agent_channel(xml),
        interfaces=count_interfaces(xml),
        id=dom.ID() if dom.isActive() else -1,
        uuid=dom.UUIDString(),
    )


@probe("libvirt.domains", layer="platform", title="libvirt domains", vantages=HOST_SIDE)
def domains(vantage: Vantage, domain: str | None = None, uri: str | None = None) -> ProbeOutput:
    """Every domain (or one) with its state: a shut-off or paused guest answers nothing."""
    libvirt = import_libvirt()
    the_uri = uri_for(vantage, uri)
    conn = connection(the_uri)
    rows = [_domain_row(libvirt, d) for d in list_domains(conn, the_uri, domain)]
    return ProbeOutput(rows=tuple(rows), raw=f"uri {the_uri} driver {conn.getType()}")


def _interfaces(conn: Any, uri: str, domain: str | None) -> tuple[list[DomainIfaceRow], str]:
    rows: list[DomainIfaceRow] = []
    raws: list[str] = []
    for dom in list_domains(conn, uri, domain):
        xml = _xml(dom)
        rows.extend(parse_interfaces(dom.name(), xml))
        raws.append(xml)
    return rows, "\n".join(raws)


@probe("libvirt.interfaces", layer="platform", title="libvirt domain interfaces", vantages=HOST_SIDE)
def interfaces(vantage: Vantage, domain: str | None = None, uri: str | None = None) -> ProbeOutput:
    """Each domain ``<interface>``: network/bridge, tap, MAC, model, link state, filter."""
    import_libvirt()
    the_uri = uri_for(vantage, uri)
    rows, raw = _interfaces(connection(the_uri), the_uri, domain)
    return ProbeOutput(rows=tuple(rows), raw=_clip(raw))


def _network_rows(libvirt: Any, conn: Any, name: str | None = None) -> tuple[list[NetworkRow], str]:
    rows: list[NetworkRow] = []
    raws: list[str] = []
    for net in list_networks(conn):
        if name and net.name() != name:
            continue
        xml = net.XMLDesc(0)
        try:
            autostart = bool(net.autostart())
        except libvirt.libvirtError:
            autostart = False
        rows.append(
            parse_network(
                xml,
                active=bool(net.isActive()),
                autostart=autostart,
                persistent=bool(net.isPersistent()),
            )
        )
        raws.append(xml)
    return rows, "\n".join(raws)


@probe("libvirt.networks", layer="platform", title="libvirt networks", vantages=HOST_SIDE)
def networks(vantage: Vantage, network: str | None = None, uri: str | None = None) -> ProbeOutput:
    """Networks: active, autostart, forward mode, bridge, address, DHCP range, static hosts."""
    libvirt = import_libvirt()
    the_uri = uri_for(vantage, uri)
    rows, raw = _network_rows(libvirt, connection(the_uri), network)
    return ProbeOutput(rows=tuple(rows), raw=_clip(raw))


@probe("libvirt.leases", layer="platform", title="libvirt DHCP leases", vantages=HOST_SIDE)
def leases(
    vantage: Vantage,
    domain: str | None = None,
    network: str | None = None,
    uri: str | None = None,
) -> ProbeOutput:
    """dnsmasq's leases per network; with ``domain``, only that domain's MACs on its networks."""
    libvirt = import_libvirt()
    the_uri = uri_for(vantage, uri)
    conn = connection(the_uri)
    nets, _ = _network_rows(libvirt, conn, network)
    macs: set[str] | None = None
    if domain:
        ifaces, _ = _interfaces(conn, the_uri, domain)
        macs = {i.mac for i in ifaces}
        wanted = {i.network for i in ifaces if i.network}
        nets = [n for n in nets if n.name in wanted]
    rows: list[LeaseRow] = []
    notes: list[str] = []
    source = lease_source()
    for net in nets:
        if not net.active:
            notes.append(f"{net.name}: inactive, no dnsmasq")
            continue
        try:
            found = source.leases(conn, the_uri, net.name)
        except LibvirtLookupError as exc:
            notes.append(str(exc))
            continue
        for lease in found:
            mac = str(lease.get("mac", "")).lower()
            if macs is not None and mac not in macs:
                continue
            rows.append(
                LeaseRow(
                    network=net.name,
                    mac=mac,
                    ip=str(lease.get("ipaddr", "")),
                    prefixlen=int(lease.get("prefix", 0) or 0),
                    hostname=str(lease.get("hostname") or ""),
                    expiry=int(lease.get("expirytime", 0) or 0),
                    iface=str(lease.get("iface", "") or net.bridge),
                    clientid=str(lease.get("clientid") or ""),
                )
            )
    return ProbeOutput(rows=tuple(rows), raw="\n".join(notes))


@probe("libvirt.ifstats", layer="platform", title="libvirt interface counters", vantages=HOST_SIDE)
def ifstats(vantage: Vantage, domain: str | None = None, uri: str | None = None) -> ProbeOutput:
    """rx/tx packets, errors and drops per running domain interface (the host's view of the tap)."""
    libvirt = import_libvirt()
    the_uri = uri_for(vantage, uri)
    conn = connection(the_uri)
    rows: list[IfStatRow] = []
    notes: list[str] = []
    for dom in list_domains(conn, the_uri, domain):
        if not dom.isActive():
            continue
        for iface in parse_interfaces(dom.name(), _xml(dom)):
            if not iface.target:
                continue
            try:
                rx_b, rx_p, rx_e, rx_d, tx_b, tx_p, tx_e, tx_d = dom.interfaceStats(iface.target)
            except libvirt.libvirtError as exc:
                notes.append(f"{dom.name()} {iface.target}: {first_line(exc)}")
                continue
            rows.append(
                IfStatRow(
                    domain=dom.name(),
                    target=iface.target,
                    mac=iface.mac,
                    rx_packets=rx_p,
                    tx_packets=tx_p,
                    rx_errors=rx_e,
                    tx_errors=tx_e,
                    rx_dropped=rx_d,
                    tx_dropped=tx_d,
                    rx_bytes=rx_b,
                    tx_bytes=tx_b,
                )
            )
    if is_test_driver(conn):
        notes.append("test driver: the counters are invented")
    return ProbeOutput(rows=tuple(rows), raw="\n".join(notes))


def _host_links(host: Vantage) -> tuple[dict[str, Any], str]:
    """The host's links by name via ``link.list`` ({} and the reason when unavailable)."""
    from .base import run_probe

    obs = run_probe("link.list", host)
    if not obs.ok:
        return {}, f"host links: {obs.status}: {obs.reason}"
    return {r.name: r for r in obs.rows}, ""


def path_rows(
    ifaces: list[DomainIfaceRow],
    nets: dict[str, NetworkRow],
    running: dict[str, bool],
    links: dict[str, Any],
    host_note: str = "",
) -> list[PathRow]:
    """Join the XML, the networks and the host's links into one row per interface (pure).

    ``links`` are the host's LinkRows by name; ``host_note`` says why they were
    not looked at (then ``tap_present`` stays None).
    """
    rows: list[PathRow] = []
    for iface in ifaces:
        net = nets.get(iface.network) if iface.network else None
        bridge = iface.bridge
        notes: list[str] = []
        if iface.type == "network":
            if net is None:
                notes.append(f"network {iface.network!r} is not defined")
            elif not bridge:
                bridge = net.bridge
        elif iface.type == "direct":
            notes.append(
                f"macvtap on {iface.source}: the host cannot reach this guest through {iface.source}"
            )
        elif iface.type == "user":
            notes.append("user-mode networking: no host tap, the host cannot reach the guest")
        present: bool | None = None
        operstate = master = ""
        tap = iface.target
        if not running.get(iface.domain, False):
            notes.append("domain not running: no tap")
            tap = ""
        elif not tap:
            notes.append("no host device")
        elif host_note:
            notes.append(host_note)
        else:
            link = links.get(tap)
            present = link is not None
            if link is None:
                notes.append(f"{tap} does not exist on the host")
            else:
                operstate, master = link.operstate, link.master
                if bridge and master != bridge and iface.type in ("network", "bridge"):
                    notes.append(f"{tap} should be a port of {bridge}, is on {master or 'no bridge'}")
        rows.append(
            PathRow(
                domain=iface.domain,
                mac=iface.mac,
                tap=tap,
                bridge=bridge,
                network=iface.network,
                link_state=iface.link_state,
                network_active=(net.active if net is not None else None),
                tap_present=present,
                tap_operstate=operstate,
                tap_master=master,
                type=iface.type,
                note="; ".join(notes),
            )
        )
    return rows


@probe("libvirt.path", layer="platform", title="guest MAC → tap → bridge → network", vantages=HOST_SIDE)
def path(
    vantage: Vantage,
    domain: str | None = None,
    host: str | None = None,
    uri: str | None = None,
) -> ProbeOutput:
    """For each domain interface: the tap, the bridge it should be on, the network, and
    what the host really shows for that tap (present, state, master).

    ``host`` is the vantage whose links hold the taps (default: this machine).
    """
    libvirt = import_libvirt()
    the_uri = uri_for(vantage, uri)
    conn = connection(the_uri)
    ifaces, _ = _interfaces(conn, the_uri, domain)
    nets = {n.name: n for n in _network_rows(libvirt, conn)[0]}
    running = {d.name(): bool(d.isActive()) for d in list_domains(conn, the_uri, domain)}

    host_note = ""
    links: dict[str, Any] = {}
    if is_test_uri(the_uri):
        host_note = "test driver: tap names are invented, not looked up on the host"
    elif is_remote_uri(the_uri):
        host_note = "remote hypervisor: its taps are not visible from this machine"
    elif any(i.target and running.get(i.domain) for i in ifaces):
        try:
            host_vantage = parse_vantage(host) if host else LOCAL
        except VantageError as exc:
            raise Skip(str(exc)) from None
        links, host_note = _host_links(host_vantage)
    rows = path_rows(ifaces, nets, running, links, host_note)
    return ProbeOutput(rows=tuple(rows), raw=host_note)


@probe("guest.interfaces", layer="network", title="guest interfaces (qemu-guest-agent)", vantages=("libvirt",))
def guest_interfaces(vantage: Vantage) -> ProbeOutput:
    """The guest's NICs and addresses from ``guest-network-get-interfaces``.

    Works where the agent blocks ``guest-exec``; it cannot tell up from down.
    """
    try:
        answer = agent_command(vantage, {"execute": "guest-network-get-interfaces"})
    except AgentUnavailable as exc:
        raise Skip(f"{NO_AGENT}: {exc}") from None
    except AgentCommandError as exc:
        if "disabled" in str(exc).lower() or "not allowed" in str(exc).lower():
            raise Skip(f"{NO_AGENT} interfaces: {exc}") from None
        raise
    links, addrs = parse_network_interfaces(answer)
    import json

    return ProbeOutput(rows=(*links, *addrs), raw=_clip(json.dumps(answer, indent=1)))
