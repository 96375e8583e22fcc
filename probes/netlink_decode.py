"""One import for the lean rtnetlink decoders: rows from datagrams, with ``struct`` only.

Kept for the three dumps that can be huge (links, routes, neighbours), where
``vnetdoctor bench netlink`` shows pyroute2's generic message classes 10-30
times slower; everything else is pyroute2's (:mod:`.netlink_rows`).

Every decoder is a pure function of the datagrams (``bytes``) a dump returned
and, where rows name interfaces, an ``{ifindex: name}`` map. That makes them
testable on recorded dumps without root, and keeps the hot loops (100,000
routes, thousands of links) down to one pass that reads only the attributes a
row needs; everything else is skipped by its length.

Decoders stop at NLMSG_DONE, so they can consume the datagrams of a live dump
as they arrive (:func:`~.netlink_query.lean_dump`); kernel errors surface as
:class:`~.errors.NetlinkError`, interrupted dumps as
:class:`~.netlink_wire.DumpInterrupted`.

Names follow iproute2's spelling (``ip -d``), so rows read the same whether they
came from here or from :mod:`.iproute_json` on a guest.
"""

from __future__ import annotations

from .netlink_links import DecodedLink, bridge_rows, bridge_supports_vlans, decode_links, link_rows
from .netlink_neighbours import decode_neighbours, nud_state_name
from .netlink_route_words import table_name
from .netlink_routes import decode_routes
from .netlink_wire import attrs

__all__ = [
    "DecodedLink",
    "attrs",
    "bridge_rows",
    "bridge_supports_vlans",
    "decode_links",
    "decode_neighbours",
    "decode_routes",
    "link_rows",
    "nud_state_name",
    "table_name",
]
