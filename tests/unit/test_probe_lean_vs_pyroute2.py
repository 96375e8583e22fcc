"""The lean decoders kept for the big dumps must give the same rows as pyroute2.

Links, routes and neighbours are read by the lean decoders because pyroute2's
generic message classes are 10-30 times slower there (``vnetdoctor bench
netlink``). pyroute2 stays the independent reference: here it decodes the very
same datagrams the lean decoders read (recorded from the probe lab, live from
this process's namespace; namespaces built for the purpose are in
``tests/lab/test_netlink_pyroute2.py``), and
``vnetdoctor.bench_netlink_pyroute2`` turns its messages into rows. Any
disagreement is a bug in one of them, and pyroute2 has far more users.
"""

from __future__ import annotations

import pytest
from tests.unit.support.probe_recording import chunks, names, parse, side
from vnetdoctor.probes import netlink_decode as nd
from vnetdoctor.probes import netlink_query as nq

from vnetdoctor import bench_netlink_pyroute2 as ref


# ------------------------------------------------------------------ recorded lab state


@pytest.mark.parametrize("which", ["host", "guest"])
def test_recorded_links_match_pyroute2(which):
    drivers = side(which)["drivers"]
    lean = nd.link_rows(nd.decode_links(chunks(which, "link")), drivers)
    assert lean == ref.link_rows(parse(chunks(which, "link")), drivers)
    assert len(lean) >= 2


@pytest.mark.parametrize("which", ["host", "guest"])
def test_recorded_routes_match_pyroute2(which):
    lean = nd.decode_routes(chunks(which, "route"), names(which))
    assert lean == ref.route_rows(parse(chunks(which, "route")), names(which))
    assert any(r.dst == "default" for r in lean)


@pytest.mark.parametrize("which", ["host", "guest"])
def test_recorded_neighbours_match_pyroute2(which):
    lean = nd.decode_neighbours(chunks(which, "neigh"), names(which))
    assert lean == ref.neighbour_rows(parse(chunks(which, "neigh")), names(which))
    assert lean


# ------------------------------------------------------------------ live, this namespace (read-only)


def test_live_dumps_of_this_namespace_match_pyroute2():
    """Dump once, decode twice: both decoders see exactly the same state."""
    index_names = nq.interface_names()
    link = nq.dump_raw(nq.LINKS)
    route = nq.dump_raw(nq.ROUTES)
    neigh = nq.dump_raw(nq.NEIGHBOURS)
    assert nd.link_rows(nd.decode_links(link)) == ref.link_rows(parse(link), {})
    assert nd.decode_routes(route, index_names) == ref.route_rows(parse(route), index_names)
    assert nd.decode_neighbours(neigh, index_names) == ref.neighbour_rows(parse(neigh), index_names)
