"""``addr.list``: the IPv4/IPv6 addresses of every interface.

The network layer's first question: does the guest (or the host bridge) have an
address at all, is it 169.254.x.x, do the prefixes put both ends in one subnet.
The dump is pyroute2's (``IPRoute.get_addr``): a host has few addresses.
"""

from __future__ import annotations

from .base import ProbeOutput, probe
from .guest_windows import windows_output
from .iproute_json import IP_ADDR, addrs_from_ip, clip, run_json
from .netlink_query import interface_names, with_rtnl
from .netlink_rows import addr_rows
from .nsexec import call_in
from .rows import AddrRow
from .vantage import Vantage

def _addrs_here() -> list[AddrRow]:
    """Runs inside the vantage's namespace: pyroute2's address dump, every family."""
    return with_rtnl(
        "netlink address dump", lambda ipr: addr_rows(ipr.get_addr(), interface_names())
    )


@probe(
    "addr.list",
    layer="network",
    title="IP addresses of every interface",
    vantages=("local", "netns", "libvirt"),
)
def addr_list(vantage: Vantage) -> ProbeOutput:
    if (windows := windows_output("addr.list", vantage)) is not None:
        return windows
    if vantage.kind == "libvirt":
        items, text = run_json(vantage, IP_ADDR)
        return ProbeOutput(rows=tuple(addrs_from_ip(items)), raw=clip(text))
    rows = call_in(vantage, _addrs_here)
    raw = "\n".join(
        f"{r.ifname} {r.family} {r.address}/{r.prefixlen} scope {r.scope} "
        f"{' '.join(r.flags)}".rstrip()
        for r in rows
    )
    return ProbeOutput(rows=tuple(rows), raw=clip(raw))
