"""The lean netlink decoders (links, routes, neighbours) on recorded dumps of the probe lab.

Each row is checked as the lab set it up.

The lab (``tests/lab/support/probe_topology.py``) builds a host namespace with a bridge
whose two ports are in STP listening, one with flooding/learning off and BPDU
guard on, routes of every type, neighbours, a static fdb entry; the guest has
an MTU of 1450 and a default route. These tests read what the kernel answered.
"""

from __future__ import annotations

import pytest
from tests.unit.support.probe_recording import chunks, names, side
from vnetdoctor.probes import netlink_decode as nd
from vnetdoctor.probes.rows import NeighRow, RouteRow


def host_links():
    return nd.link_rows(nd.decode_links(chunks("host", "link")), side("host")["drivers"])


def by_name(rows):
    return {r.name: r for r in rows}


def test_links_state_mtu_master_and_noarp():
    links = by_name(host_links())
    assert set(links) == {
        "lo",
        "br0",
        "vpeer1",
        "vnet1",
        "upeer",
        "uplink",
        "down0p",
        "down0",
        "vnet0",
    }
    assert links["lo"].kind == "loopback" and links["lo"].driver == "loopback"
    assert links["br0"].kind == "bridge" and links["br0"].driver == "bridge"
    # both bridge ports are in STP listening, so the bridge has no carrier yet
    assert (links["br0"].admin_up, links["br0"].carrier, links["br0"].operstate) == (
        True,
        False,
        "DOWN",
    )
    assert links["vnet0"].master == links["vnet1"].master == "br0"
    assert links["uplink"].master == ""
    assert links["uplink"].mtu == 1400
    assert links["upeer"].noarp and not links["uplink"].noarp
    assert (links["down0"].admin_up, links["down0"].carrier, links["down0"].operstate) == (
        False,
        False,
        "DOWN",
    )
    assert all(":" in r.mac and len(r.mac) == 17 for r in links.values())


def test_veth_peers_in_this_and_in_another_namespace():
    links = by_name(host_links())
    # same namespace: each end names the other, no netnsid
    assert links["vnet1"].peer_ifindex == links["vpeer1"].ifindex
    assert links["vpeer1"].peer_ifindex == links["vnet1"].ifindex
    assert links["vnet1"].peer_netnsid == -1
    # vnet0's peer is the guest's eth0: an index in the guest, and a netnsid
    guest = by_name(nd.link_rows(nd.decode_links(chunks("guest", "link"))))
    assert links["vnet0"].peer_ifindex == guest["eth0"].ifindex
    assert links["vnet0"].peer_netnsid >= 0
    assert guest["eth0"].peer_ifindex == links["vnet0"].ifindex
    assert guest["eth0"].mtu == 1450
    # non-veth links carry no peer even when the kernel sends IFLA_LINK
    assert links["br0"].peer_ifindex == 0 and links["lo"].peer_ifindex == 0


def test_link_counters_come_from_stats64():
    links = by_name(host_links())
    # the ports sent/received a few frames (STP, IPv6 MLD) while the lab came up
    assert links["vnet1"].tx_packets == links["vpeer1"].rx_packets
    assert all(r.rx_errors == 0 and r.tx_errors == 0 for r in links.values())


def test_drivers_fall_back_to_kind_without_ethtool():
    rows = by_name(nd.link_rows(nd.decode_links(chunks("host", "link")), {}))
    assert rows["vnet0"].driver == "veth" and rows["lo"].driver == "loopback"
    with_ethtool = by_name(
        nd.link_rows(nd.decode_links(chunks("host", "link")), {"vnet0": "realdriver"})
    )
    assert with_ethtool["vnet0"].driver == "realdriver"


def test_bridge_options():
    (bridge,) = nd.bridge_rows(nd.decode_links(chunks("host", "link")))
    assert bridge.name == "br0"
    assert bridge.stp_enabled is True
    assert bridge.forward_delay_s == 30.0
    assert bridge.vlan_filtering is False
    assert bridge.ageing_time_s == 300.0
    assert bridge.nf_call_iptables is True


def test_this_kernel_reports_no_bridge_vlan_support():
    (bridge,) = [link for link in nd.decode_links(chunks("host", "link")) if link.kind == "bridge"]
    assert nd.bridge_supports_vlans(bridge) is False


def test_routes_every_type_table_and_multipath():
    routes = nd.decode_routes(chunks("host", "route"), names("host"))
    main4 = [r for r in routes if r.table == "main" and r.family == "inet"]
    assert (
        RouteRow(
            "default",
            "main",
            "unicast",
            "203.0.113.254",
            "uplink",
            "",
            "boot",
            "universe",
            0,
            "inet",
        )
        in main4
    )
    assert (
        RouteRow(
            "198.51.100.0/24",
            "main",
            "unicast",
            "198.18.0.11",
            "br0",
            "",
            "static",
            "universe",
            100,
            "inet",
        )
        in main4
    )
    assert (
        RouteRow(
            "198.18.0.0/24", "main", "unicast", "", "br0", "198.18.0.1", "kernel", "link", 0, "inet"
        )
        in main4
    )
    kinds = {r.dst: r.type for r in main4}
    assert kinds["192.0.2.128/25"] == "blackhole"
    assert kinds["192.0.2.64/26"] == "unreachable"
    assert kinds["192.0.2.32/27"] == "prohibit"
    multipath = [(r.gateway, r.dev) for r in main4 if r.dst == "198.18.64.0/24"]
    assert multipath == [("198.18.0.11", "br0"), ("203.0.113.254", "uplink")]
    assert (
        RouteRow("198.18.99.0/24", "100", "unicast", "", "br0", "", "boot", "link", 0, "inet")
        in routes
    )
    # host routes print without /32 (like ip), the local table is there, and IPv6 too
    assert any(r.table == "local" and r.dst == "198.18.0.1" and r.type == "local" for r in routes)
    assert any(r.family == "inet6" and r.dst == "fe80::/64" for r in routes)


def test_neighbours_and_their_states():
    neigh = nd.decode_neighbours(chunks("host", "neigh"), names("host"))
    assert NeighRow("uplink", "203.0.113.10", "02:00:00:00:00:10", "PERMANENT", "inet") in neigh
    assert NeighRow("uplink", "203.0.113.11", "02:00:00:00:00:11", "STALE", "inet") in neigh
    assert {n.family for n in neigh} == {"inet", "inet6"}
