"""``neigh.list``: the ARP and NDP caches.

An entry stuck INCOMPLETE or FAILED for the target is the data-link layer's
clearest sign that ARP requests or replies are not getting through; two
addresses with one MAC, or one address answered by a MAC nobody expects, point
at duplicates.
"""

from __future__ import annotations

from .base import ProbeOutput, probe
from .iproute_json import IP_NEIGH, clip, neighbours_from_ip, run_json
from .netlink_decode import decode_neighbours
from .netlink_query import NEIGHBOURS, interface_names, lean_dump
from .nsexec import call_in
from .rows import NeighRow
from .vantage import Vantage

def _neighbours_here() -> list[NeighRow]:
    return lean_dump(NEIGHBOURS, decode_neighbours, interface_names())  # ARP and NDP


@probe(
    "neigh.list",
    layer="datalink",
    title="Neighbour (ARP/NDP) cache",
    vantages=("local", "netns", "libvirt"),
)
def neigh_list(vantage: Vantage) -> ProbeOutput:
    if vantage.kind == "libvirt":
        items, text = run_json(vantage, IP_NEIGH)
        return ProbeOutput(rows=tuple(neighbours_from_ip(items)), raw=clip(text))
    rows = call_in(vantage, _neighbours_here)
    raw = "\n".join(f"{r.address} dev {r.ifname} lladdr {r.lladdr or '-'} {r.state}" for r in rows)
    return ProbeOutput(rows=tuple(rows), raw=clip(raw))
