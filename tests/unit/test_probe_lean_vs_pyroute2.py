"""The lean netlink decoder must give the same rows as pyroute2 on the same system state.

pyroute2 is the independent reference (``tests.unit.support.pyroute2_reference``). Here
it decodes the very same datagrams the lean decoder reads (recorded from the probe lab,
and live from this process's namespace). Any disagreement is a bug in one of them, and
pyroute2 has far more users. A namespace with thousands of routes: tests/lab.
"""

from __future__ import annotations

import pytest
from tests.unit.support.probe_recording import chunks, names, side
from tests.unit.support.pyroute2_reference import (
    ref_addrs,
    ref_bridge_ports,
    ref_fdb,
    ref_links,
    ref_neighbours,
    ref_routes,
)
from vnetdoctor.probes import netlink_decode as nd
from vnetdoctor.probes import netlink_query as nq
from vnetdoctor.probes.netlink_socket import RTM_GETADDR, RTM_GETLINK, RTM_GETNEIGH, RTM_GETROUTE


# ------------------------------------------------------------------ recorded lab state


@pytest.mark.parametrize("which", ["host", "guest"])
def test_recorded_links_match_pyroute2(which):
    drivers = side(which)["drivers"]
    lean = nd.link_rows(nd.decode_links(chunks(which, "link")), drivers)
    assert lean == ref_links(chunks(which, "link"), drivers)
    assert len(lean) >= 2


@pytest.mark.parametrize("which", ["host", "guest"])
def test_recorded_routes_match_pyroute2(which):
    lean = nd.decode_routes(chunks(which, "route"), names(which))
    assert lean == ref_routes(chunks(which, "route"), names(which))
    assert any(r.dst == "default" for r in lean)


@pytest.mark.parametrize("which", ["host", "guest"])
def test_recorded_neighbours_and_addresses_match_pyroute2(which):
    assert nd.decode_neighbours(chunks(which, "neigh"), names(which)) == ref_neighbours(
        chunks(which, "neigh"), names(which)
    )
    assert nd.decode_addrs(chunks(which, "addr"), names(which)) == ref_addrs(
        chunks(which, "addr"), names(which)
    )


def test_recorded_bridge_ports_and_fdb_match_pyroute2():
    ports = nd.decode_bridge_ports(chunks("host", "bridge_link"), names("host"))
    assert ports == ref_bridge_ports(chunks("host", "bridge_link"), names("host"))
    assert len(ports) == 2
    fdb = nd.decode_fdb(chunks("host", "fdb"), names("host"))
    assert fdb == ref_fdb(chunks("host", "fdb"), names("host"))
    assert len(fdb) == 3


# ------------------------------------------------------------------ live, this namespace (read-only)


def test_live_dumps_of_this_namespace_match_pyroute2():
    """Dump once, decode twice: both decoders see exactly the same state."""
    index_names = nq.interface_names()
    link = nq.dump_raw(RTM_GETLINK, bytes(16))
    route = nq.dump_raw(RTM_GETROUTE, bytes(12))
    neigh = nq.dump_raw(RTM_GETNEIGH, bytes(12))
    addr = nq.dump_raw(RTM_GETADDR, bytes(8))
    assert nd.link_rows(nd.decode_links(link)) == ref_links(link, {})
    assert nd.decode_routes(route, index_names) == ref_routes(route, index_names)
    assert nd.decode_neighbours(neigh, index_names) == ref_neighbours(neigh, index_names)
    assert nd.decode_addrs(addr, index_names) == ref_addrs(addr, index_names)
