"""``link.list``: every interface with its state, carrier, MTU, MAC, master and driver.

The physical layer of the flowchart starts here: an admin-down tap, a bridge
without carrier, a veth whose peer vanished, an MTU that differs along the path.
On the host and in namespaces the rows come from one RTM_GETLINK dump decoded by
:mod:`.netlink_decode` (pyroute2's socket, the lean decoder), plus the
ETHTOOL_GDRVINFO ioctl through pyroute2's ethtool layer for the driver name; in a
libvirt guest from ``ip -j -d -s link`` run through the guest agent.
"""

from __future__ import annotations

from .base import ProbeOutput, probe
from .guest_windows import windows_output
from .iproute_json import IP_LINK, clip, links_from_ip, run_json
from .netlink_decode import link_rows
from .netlink_query import ethtool_drivers, link_dump
from .nsexec import call_in
from .rows import LinkRow
from .vantage import Vantage


# Link kinds whose ethtool driver is the kind itself (checked on this kernel with
# ETHTOOL_GDRVINFO). Asking anyway costs one ioctl per interface: on a host with
# thousands of taps and veths that is a fifth of the dump (``bench netlink``), to
# learn nothing. A NIC (no kind) or a kind not listed is still asked.
_DRIVER_IS_KIND = frozenset({"veth", "bridge", "tun", "macvlan", "dummy"})


def _links_here() -> list[LinkRow]:
    """Runs inside the vantage's namespace: the dump and the ioctls see its interfaces."""
    links = link_dump()
    drivers = ethtool_drivers(link.name for link in links if link.kind not in _DRIVER_IS_KIND)
    return link_rows(links, drivers)


def _summary(rows: list[LinkRow]) -> str:
    """One `ip -br link`-like line per interface: the evidence an operator reads first."""
    lines = []
    for r in rows:
        master = f" master {r.master}" if r.master else ""
        lines.append(
            f"{r.ifindex}: {r.name} {r.operstate} <{'UP' if r.admin_up else 'DOWN'}"
            f"{',LOWER_UP' if r.carrier else ''}> mtu {r.mtu} {r.mac}{master} ({r.driver or '-'})"
        )
    return clip("\n".join(lines))


@probe(
    "link.list",
    layer="physical",
    title="Interfaces: state, carrier, MTU, MAC, master, driver, counters",
    vantages=("local", "netns", "libvirt"),
)
def link_list(vantage: Vantage) -> ProbeOutput:
    if (windows := windows_output("link.list", vantage)) is not None:
        return windows
    if vantage.kind == "libvirt":
        items, text = run_json(vantage, IP_LINK)
        return ProbeOutput(rows=tuple(links_from_ip(items)), raw=clip(text))
    rows = call_in(vantage, _links_here)
    return ProbeOutput(rows=tuple(rows), raw=_summary(rows))
