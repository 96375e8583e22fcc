"""Netlink through pyroute2, in namespaces built for the purpose (prefix ``vnnl-``).

The small queries (addresses, bridge ports, fdb, VLANs, one route lookup, the
ethtool driver) are pyroute2's; the big dumps (links, routes, neighbours) are
read by the lean decoders from pyroute2's socket. These tests build one
namespace with a bridge, two ports, a static fdb entry, policy routing and
refusing routes (addresses from 198.18.0.0/15 only), then check:

- each pyroute2-backed probe against what the namespace was built with, and
  against iproute2 where it has JSON to compare with;
- the error paths: a missing namespace (never created by asking), a missing
  interface, a kernel refusal, each an ``error`` observation saying why;
- lean and pyroute2 agree row for row on the dumps kept lean.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from collections.abc import Iterator
from ipaddress import IPv4Address

import pytest
from vnetdoctor.probes import caps
from vnetdoctor.probes import iproute_json as ij
from vnetdoctor.probes import netlink_decode as nd
from vnetdoctor.probes import netlink_query as nq
from vnetdoctor.probes.base import ERROR, SKIPPED, run_probe
from vnetdoctor.probes.errors import NetlinkError
from vnetdoctor.probes.nsexec import call_in
from vnetdoctor.probes.vantage import Vantage

from vnetdoctor import bench_netlink_pyroute2 as ref

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(
        not (caps.has_cap(caps.CAP_NET_ADMIN) and caps.has_cap(caps.CAP_SYS_ADMIN)),
        reason="needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to create network namespaces",
    ),
]

PREFIX = f"vnnl-{os.getpid()}"

_BRIDGED = [
    "link set lo up",
    "link add br0 type bridge",
    "link add va type veth peer name vb",
    "link add vc type veth peer name vd",
    "link set va master br0",
    "link set vc master br0",
    "link set dev vc type bridge_slave flood off learning off cost 7 priority 9",
    "link set br0 up",
    "link set va up",
    "link set vb up",
    "link set vd mtu 1400",
    "addr add 198.18.0.1/24 dev br0",
    "addr add 198.18.0.5/24 dev br0",
    "addr add 198.18.1.1/24 dev vb",
    "route add default via 198.18.0.254",
    "route add 198.19.0.0/16 via 198.18.1.2 dev vb metric 20 proto static",
    "route add blackhole 198.19.99.0/24",
    "route add prohibit 198.19.98.0/24",
    "route add 198.19.100.0/24 nexthop via 198.18.0.2 dev br0 nexthop via 198.18.1.2 dev vb",
    "route add 198.19.5.0/24 via 198.18.0.3 dev br0 table 100",
    "rule add to 198.19.5.0/24 lookup 100",
    "neigh add 198.18.0.9 lladdr 02:00:00:00:00:09 dev br0 nud permanent",
    "neigh add 198.18.1.9 lladdr 02:00:00:00:00:19 dev vb nud stale",
    "neigh add 198.18.1.10 dev vb nud incomplete",
]


def _namespace(name: str, lines: list[str]) -> Iterator[str]:
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "-batch", "-"], input="\n".join(lines), text=True, check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


@pytest.fixture(scope="module")
def ns() -> Iterator[str]:
    name = f"{PREFIX}-br"
    gen = _namespace(name, _BRIDGED)
    yield next(gen)
    next(gen, None)


def _ip_json(ns: str, *args: str) -> list:
    out = subprocess.run(["ip", "-n", ns, "-j", *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


# ------------------------------------------------------------------ pyroute2-backed probes


def test_addresses_through_pyroute2_equal_iproute2(ns: str) -> None:
    obs = run_probe("addr.list", Vantage("netns", ns))
    assert obs.ok, obs.reason
    assert sorted(obs.rows, key=repr) == sorted(ij.addrs_from_ip(_ip_json(ns, "addr")), key=repr)
    mine = {(r.ifname, r.address): r for r in obs.rows}
    assert mine[("br0", "198.18.0.5")].flags == ("secondary",)
    assert mine[("lo", "127.0.0.1")].scope == "host"


def test_bridge_ports_through_pyroute2(ns: str) -> None:
    obs = run_probe("bridge.ports", Vantage("netns", ns))
    assert obs.ok, obs.reason
    ports = {r.port: r for r in obs.rows}
    assert set(ports) == {"va", "vc"} and {r.bridge for r in obs.rows} == {"br0"}
    assert (ports["vc"].flood, ports["vc"].learning, ports["vc"].cost, ports["vc"].priority) == (
        False,
        False,
        7,
        9,
    )
    assert ports["va"].flood and ports["va"].learning
    assert ports["vc"].state == "disabled" and not ports["vc"].oper_up  # vc is down


def test_fdb_through_pyroute2(ns: str) -> None:
    vantage = Vantage("netns", ns)
    subprocess.run(
        ["ip", "netns", "exec", ns, "bridge", "fdb", "replace", "02:00:00:00:00:aa", "dev", "va",
         "master", "static"],
        check=True,
    )
    obs = run_probe("bridge.fdb", vantage)
    assert obs.ok, obs.reason
    static = [r for r in obs.rows if r.mac == "02:00:00:00:00:aa"]
    assert [(r.bridge, r.port, r.state, r.is_local) for r in static] == [("br0", "va", "static", False)]
    assert {r.port for r in obs.rows if r.is_local} >= {"va", "vc"}
    assert not [r for r in obs.rows if r.mac.startswith(("33:33", "01:00:5e"))]


def test_vlans_through_pyroute2_or_a_reason(ns: str) -> None:
    obs = run_probe("bridge.vlans", Vantage("netns", ns))
    if obs.status == SKIPPED:  # this kernel is built without bridge VLAN filtering
        assert "VLAN filtering" in obs.reason
    else:
        assert obs.ok, obs.reason
        assert {(r.port, r.vid, r.pvid) for r in obs.rows} >= {("va", 1, True)}


def test_bridge_options_and_drivers(ns: str) -> None:
    vantage = Vantage("netns", ns)
    (bridge,) = run_probe("bridge.list", vantage).rows
    assert bridge.name == "br0"
    drivers = {r.name: r.driver for r in run_probe("link.list", vantage).rows}
    assert (drivers["va"], drivers["br0"], drivers["lo"]) == ("veth", "bridge", "loopback")


@pytest.mark.parametrize(
    ("dst", "kind", "dev", "gateway", "table"),
    [
        ("198.19.7.7", "unicast", "vb", "198.18.1.2", "main"),
        ("198.19.5.5", "unicast", "br0", "198.18.0.3", "100"),  # the rule sends it to table 100
        ("198.18.0.77", "unicast", "br0", "", "main"),
        ("203.0.113.9", "unicast", "br0", "198.18.0.254", "main"),  # the default route
        ("198.18.0.1", "local", "lo", "", "local"),
    ],
)
def test_route_lookup_through_pyroute2(ns: str, dst, kind, dev, gateway, table) -> None:
    obs = run_probe("route.lookup", Vantage("netns", ns), dst=dst)
    assert obs.ok, obs.reason
    (row,) = obs.rows
    assert (row.type, row.dev, row.gateway, row.table, row.error) == (kind, dev, gateway, table, "")
    assert row.prefsrc


@pytest.mark.parametrize(
    ("dst", "kind", "error"),
    [
        ("198.19.99.1", "blackhole", "Invalid argument"),
        ("198.19.98.1", "prohibit", "Permission denied"),
    ],
)
def test_refusing_routes_are_answers_not_failures(ns: str, dst, kind, error) -> None:
    (row,) = run_probe("route.lookup", Vantage("netns", ns), dst=dst).rows
    assert (row.type, row.error) == (kind, error)


def test_input_lookup_names_disabled_forwarding(ns: str) -> None:
    obs = run_probe("route.lookup", Vantage("netns", ns), dst="198.19.7.7", src="198.18.0.50", iif="br0")
    (row,) = obs.rows
    assert row.type == "unreachable" and "forwarding=0" in row.error


# ------------------------------------------------------------------ error paths


@pytest.mark.parametrize(
    "probe_id", ["addr.list", "bridge.ports", "bridge.fdb", "bridge.vlans", "link.list", "route.lookup"]
)
def test_a_missing_namespace_is_an_error_and_is_never_created(probe_id: str) -> None:
    missing = f"{PREFIX}-missing"
    params = {"dst": "198.18.0.1"} if probe_id == "route.lookup" else {}
    obs = run_probe(probe_id, Vantage("netns", missing), **params)
    assert obs.status == ERROR and "unknown network namespace" in obs.reason and missing in obs.reason
    assert not os.path.exists(f"/run/netns/{missing}")


def test_a_missing_interface_is_an_error_naming_it(ns: str) -> None:
    obs = run_probe("route.lookup", Vantage("netns", ns), dst="198.18.0.1", iif="vnnl-nope")
    assert obs.status == ERROR and obs.rows == ()
    assert obs.reason == "NetlinkError: no interface named 'vnnl-nope' in this namespace"


def test_a_kernel_refusal_is_the_probes_error_type(ns: str) -> None:
    def ask() -> object:
        return nq.with_rtnl("link 999999", lambda ipr: ipr.link("get", index=999999))

    with pytest.raises(NetlinkError, match="No such device") as info:
        call_in(Vantage("netns", ns), ask)
    assert info.value.errno == 19


def test_ethtool_skips_vanished_interfaces(ns: str) -> None:
    drivers = call_in(Vantage("netns", ns), nq.ethtool_drivers, ["va", "vnnl-gone", "lo"])
    assert drivers == {"va": "veth"}


# ------------------------------------------------------------------ lean vs pyroute2


def _zero_counters(rows):
    counters = ("rx_packets", "tx_packets", "rx_errors", "tx_errors", "rx_dropped", "tx_dropped")
    return [dataclasses.replace(r, **{name: 0 for name in counters}) for r in rows]


def test_lean_probes_and_pyroute2_agree_on_the_same_namespace(ns: str) -> None:
    """Each lean probe against pyroute2 end to end (its own dump, parser and names)."""
    vantage = Vantage("netns", ns)
    links = run_probe("link.list", vantage)
    assert links.ok, links.reason
    assert _zero_counters(links.rows) == _zero_counters(call_in(vantage, ref.links_here))
    assert {r.name: r.master for r in links.rows}["va"] == "br0"
    routes = run_probe("route.list", vantage)
    assert routes.ok, routes.reason
    assert list(routes.rows) == call_in(vantage, ref.routes_here)
    assert {r.table for r in routes.rows} >= {"main", "local", "100"}
    assert len([r for r in routes.rows if r.dst == "198.19.100.0/24"]) == 2  # multipath
    neigh = run_probe("neigh.list", vantage)
    assert neigh.ok, neigh.reason
    assert list(neigh.rows) == call_in(vantage, ref.neighbours_here)
    assert {(r.address, r.state) for r in neigh.rows} >= {
        ("198.18.0.9", "PERMANENT"),
        ("198.18.1.9", "STALE"),
        ("198.18.1.10", "INCOMPLETE"),
    }


def test_lean_and_pyroute2_agree_on_thousands_of_routes() -> None:
    """A few thousand routes of mixed shapes: the shape cache must not change a single row."""
    lines = [
        "link set lo up",
        "link add va type veth peer name vb",
        "link set va up",
        "link set vb up",
        "addr add 198.18.0.1/24 dev va",
        "addr add 198.18.1.1/24 dev vb",
    ]
    for i in range(3000):
        dst = IPv4Address(int(IPv4Address("198.19.0.0")) + i * 4)
        if i % 7 == 0:
            lines.append(f"route add blackhole {dst}/30")
        elif i % 5 == 0:
            lines.append(f"route add {dst}/30 via 198.18.1.2 dev vb metric {i} proto static")
        elif i % 11 == 0:
            lines.append(
                f"route add {dst}/30 nexthop via 198.18.0.2 dev va nexthop via 198.18.1.2 dev vb"
            )
        else:
            lines.append(f"route add {dst}/30 via 198.18.0.2 dev va")
    for name in _namespace(f"{PREFIX}-rt", lines):
        vantage = Vantage("netns", name)
        index_names = call_in(vantage, nq.interface_names)
        datagrams = call_in(vantage, nq.dump_raw, nq.ROUTES)
        lean = nd.decode_routes(datagrams, index_names)
        assert lean == ref.route_rows(ref.parse(datagrams), index_names)
        assert len([r for r in lean if r.dst.startswith("198.19.")]) > 3000  # multipath adds rows
        assert {r.type for r in lean} >= {"unicast", "blackhole", "local", "broadcast"}
