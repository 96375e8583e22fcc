"""One import for every rtnetlink decoder: rows from datagrams, with ``struct`` only.

Every decoder is a pure function of the datagrams (``bytes``) a dump returned
and, where rows name interfaces, an ``{ifindex: name}`` map. That makes them
testable on recorded dumps without root, and keeps the hot loops (100,000
routes, thousands of links) down to one pass that reads only the attributes a
row needs; everything else is skipped by its length.

Decoders stop at NLMSG_DONE, so they can consume a live
:meth:`~.netlink_socket.RtnlSocket.dump_chunks` generator directly; kernel
errors and interrupted dumps surface as :class:`~.netlink_socket.NetlinkError`
and :class:`~.netlink_socket.DumpInterrupted`.

Names follow iproute2's spelling (``ip -d``), so rows read the same whether they
came from here or from :mod:`.iproute_json` on a guest. The decoders live by
subject in ``netlink_links``, ``netlink_bridges``, ``netlink_routes``,
``netlink_neighbours`` and ``netlink_addresses``, on top of ``netlink_wire``.
"""

from __future__ import annotations

from .netlink_addresses import addr_flag_names, decode_addrs
from .netlink_bridges import decode_bridge_ports, decode_bridge_vlans, decode_fdb, fdb_state_name
from .netlink_links import DecodedLink, bridge_rows, bridge_supports_vlans, decode_links, link_rows
from .netlink_neighbours import decode_neighbours, nud_state_name
from .netlink_routes import decode_route_reply, decode_routes, table_name
from .netlink_wire import attrs

__all__ = [
    "DecodedLink",
    "addr_flag_names",
    "attrs",
    "bridge_rows",
    "bridge_supports_vlans",
    "decode_addrs",
    "decode_bridge_ports",
    "decode_bridge_vlans",
    "decode_fdb",
    "decode_links",
    "decode_neighbours",
    "decode_route_reply",
    "decode_routes",
    "fdb_state_name",
    "link_rows",
    "nud_state_name",
    "table_name",
]
