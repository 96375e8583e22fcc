"""Pure parsers of libvirt domain and network XML into rows.

Kept apart from the probes so they can be tested on recorded XML from any
libvirt version, and because the XML is the only place some faults show:
``<link state='down'/>`` leaves the host tap looking UP.
"""

from __future__ import annotations

import ipaddress
import xml.etree.ElementTree as ET

from .rows_libvirt import DomainIfaceRow, NetworkRow

AGENT_CHANNEL = "org.qemu.guest_agent.0"

# virDomainState
STATE_NAMES = {
    0: "nostate",
    1: "running",
    2: "blocked",
    3: "paused",
    4: "shutdown",  # being shut down
    5: "shutoff",
    6: "crashed",
    7: "pmsuspended",
}

# The libvirt constant prefix of each state's reason enum (virDomainPausedReason, …).
_REASON_PREFIX = {
    1: "VIR_DOMAIN_RUNNING_",
    2: "VIR_DOMAIN_BLOCKED_",
    3: "VIR_DOMAIN_PAUSED_",
    4: "VIR_DOMAIN_SHUTDOWN_",
    5: "VIR_DOMAIN_SHUTOFF_",
    6: "VIR_DOMAIN_CRASHED_",
    7: "VIR_DOMAIN_PMSUSPENDED_",
}


def state_name(state: int) -> str:
    return STATE_NAMES.get(state, f"state{state}")


def reason_name(libvirt_module: object, state: int, reason: int) -> str:
    """Readable reason ("ioerror", "destroyed") from libvirt's own constants."""
    prefix = _REASON_PREFIX.get(state)
    if prefix is None:
        return ""
    for attr in dir(libvirt_module):
        if attr.startswith(prefix) and getattr(libvirt_module, attr) == reason:
            rest = attr[len(prefix):]
            # VIR_DOMAIN_PMSUSPENDED_DISK_* is a different enum sharing the prefix.
            if state == 7 and rest.startswith("DISK_"):
                continue
            return rest.lower()
    return str(reason)


def _parse(xml: str) -> ET.Element:
    return ET.fromstring(xml)


def has_agent_channel(xml: str) -> bool:
    """Does the domain have the virtio-serial channel qemu-guest-agent talks over?"""
    root = _parse(xml)
    for target in root.iterfind("./devices/channel/target"):
        if target.get("name") == AGENT_CHANNEL:
            return True
    return False


def count_interfaces(xml: str) -> int:
    return len(_parse(xml).findall("./devices/interface"))


def parse_interfaces(domain: str, xml: str) -> list[DomainIfaceRow]:
    """Every ``<interface>`` of a domain, in XML order."""
    rows: list[DomainIfaceRow] = []
    for el in _parse(xml).iterfind("./devices/interface"):
        itype = el.get("type", "")
        src = el.find("source")
        network = bridge = source = ""
        if src is not None:
            network = src.get("network", "") if itype == "network" else ""
            bridge = src.get("bridge", "")
            source = (
                network
                or bridge
                or src.get("dev", "")
                or src.get("path", "")
                or src.get("name", "")
            )
        mac_el = el.find("mac")
        target_el = el.find("target")
        model_el = el.find("model")
        link_el = el.find("link")
        filter_el = el.find("filterref")
        alias_el = el.find("alias")
        rows.append(
            DomainIfaceRow(
                domain=domain,
                mac=(mac_el.get("address", "") if mac_el is not None else "").lower(),
                type=itype,
                source=source,
                target=target_el.get("dev", "") if target_el is not None else "",
                link_state=(link_el.get("state", "up") if link_el is not None else "up") or "up",
                model=model_el.get("type", "") if model_el is not None else "",
                filterref=filter_el.get("filter", "") if filter_el is not None else "",
                bridge=bridge,
                network=network,
                alias=alias_el.get("name", "") if alias_el is not None else "",
            )
        )
    return rows


def _prefixlen(ip_el: ET.Element) -> int:
    prefix = ip_el.get("prefix")
    if prefix:
        return int(prefix)
    mask = ip_el.get("netmask")
    if mask:
        return ipaddress.IPv4Network(f"0.0.0.0/{mask}").prefixlen
    return 0


def parse_network(
    xml: str, *, active: bool, autostart: bool, persistent: bool = True
) -> NetworkRow:
    """A network's XML → one row (its first IPv4 address and that address's DHCP)."""
    root = _parse(xml)
    fwd = root.find("forward")
    if fwd is None:
        forward = "isolated"
        forward_dev = ""
    else:
        # <forward/> without a mode is NAT, libvirt's default.
        forward = fwd.get("mode", "nat") or "nat"
        forward_dev = fwd.get("dev", "")
    br = root.find("bridge")
    address, prefixlen, dhcp_start, dhcp_end, hosts = "", 0, "", "", 0
    host_macs: tuple[str, ...] = ()
    for ip_el in root.iterfind("ip"):
        family = ip_el.get("family", "ipv4")
        if family != "ipv4":
            continue
        address = ip_el.get("address", "")
        prefixlen = _prefixlen(ip_el)
        dhcp = ip_el.find("dhcp")
        if dhcp is not None:
            rng = dhcp.find("range")
            if rng is not None:
                dhcp_start, dhcp_end = rng.get("start", ""), rng.get("end", "")
            hosts = len(dhcp.findall("host"))
            host_macs = tuple(h.get("mac", "").lower() for h in dhcp.findall("host") if h.get("mac"))
        break
    uuid_el = root.find("uuid")
    return NetworkRow(
        name=(root.findtext("name") or "").strip(),
        active=active,
        autostart=autostart,
        forward=forward,
        bridge=br.get("name", "") if br is not None else "",
        address=address,
        prefixlen=prefixlen,
        dhcp_start=dhcp_start,
        dhcp_end=dhcp_end,
        static_hosts=hosts,
        forward_dev=forward_dev,
        persistent=persistent,
        uuid=(uuid_el.text or "").strip() if uuid_el is not None else "",
        host_macs=host_macs,
    )


def network_has_dhcp(net: NetworkRow) -> bool:
    return bool(net.dhcp_start or net.static_hosts)
