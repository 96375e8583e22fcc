"""The iproute2 JSON parsers (the libvirt-guest path) give the rows netlink gives.

The recording holds, for the same lab at the same moment, the raw netlink dumps
and ``ip -j`` output; a guest's rows must be indistinguishable from a host's
so that every rule works on both ends. Only two things differ by nature: the
driver (no ethtool through the guest agent: the kind stands in) and counters
(the two recordings are a few milliseconds apart).
"""

from __future__ import annotations

import dataclasses

import pytest
from tests.unit.support.probe_recording import chunks, command, messages, names, parse, side
from vnetdoctor.probes import iproute_json as ij
from vnetdoctor.probes import netlink_decode as nd
from vnetdoctor.probes import netlink_rows as nr
from vnetdoctor.probes.nsexec import CommandResult
from vnetdoctor.probes.rows import BridgeVlanRow

_COUNTERS = ("rx_packets", "tx_packets", "rx_errors", "tx_errors", "rx_dropped", "tx_dropped")


def _no_counters(row):
    return dataclasses.replace(row, **{name: 0 for name in _COUNTERS})


def _ip(which: str, key: str):
    out = command(which, key)
    assert out["rc"] == 0, out["stderr"]
    return ij.load(out["stdout"])


@pytest.mark.parametrize("which", ["host", "guest"])
def test_links_from_ip_equal_netlink_rows(which):
    netlink = nd.link_rows(nd.decode_links(chunks(which, "link")))  # no ethtool: driver = kind
    parsed = ij.links_from_ip(_ip(which, "link"))
    assert [_no_counters(r) for r in parsed] == [_no_counters(r) for r in netlink]


def test_link_counters_are_read():
    parsed = {r.name: r for r in ij.links_from_ip(_ip("host", "link"))}
    assert parsed["vnet1"].tx_packets > 0 or parsed["vnet1"].rx_packets > 0


@pytest.mark.parametrize("which", ["host", "guest"])
def test_addresses_from_ip_equal_netlink_rows(which):
    netlink = nr.addr_rows(messages(which, "addr"), names(which))
    parsed = ij.addrs_from_ip(_ip(which, "addr"))
    assert sorted(parsed, key=repr) == sorted(netlink, key=repr)
    assert parsed


@pytest.mark.parametrize("which", ["host", "guest"])
def test_routes_from_ip_equal_netlink_rows(which):
    netlink = nd.decode_routes(chunks(which, "route"), names(which))
    parsed = ij.routes_from_ip(_ip(which, "route4"), "inet") + ij.routes_from_ip(
        _ip(which, "route6"), "inet6"
    )
    assert sorted(parsed, key=repr) == sorted(netlink, key=repr)


@pytest.mark.parametrize("which", ["host", "guest"])
def test_neighbours_from_ip_equal_netlink_rows(which):
    netlink = nd.decode_neighbours(chunks(which, "neigh"), names(which))
    parsed = ij.neighbours_from_ip(_ip(which, "neigh"))
    assert sorted(parsed, key=repr) == sorted(netlink, key=repr)


def test_route_get_from_ip_equals_the_kernel_answer():
    for dst, answer in side("host")["lookups"].items():
        out = side("host")["ip_route_get"][dst]
        parsed = ij.route_lookup_from_ip(
            dst, CommandResult(tuple(out["argv"]), out["rc"], out["stdout"], out["stderr"])
        )
        if "chunk" in answer:
            kernel = nr.route_reply_row(parse([bytes.fromhex(answer["chunk"])]), dst, names("host"))
        else:
            kernel = nr.lookup_refusal(dst, answer["errno"], answer["strerror"])
        assert parsed == kernel, dst


def test_route_get_no_route_and_unknown_errors():
    no_route = CommandResult(("ip",), 2, "", "RTNETLINK answers: Network is unreachable\n")
    row = ij.route_lookup_from_ip("192.0.2.9", no_route)
    assert (row.type, row.error) == ("unreachable", "Network is unreachable")
    with pytest.raises(RuntimeError, match="Cannot open netlink socket"):
        ij.route_lookup_from_ip(
            "192.0.2.9", CommandResult(("ip",), 1, "", "Cannot open netlink socket\n")
        )


def test_empty_output_is_an_empty_table():
    assert ij.load("") == [] and ij.load("\n") == []
    with pytest.raises(ValueError):
        ij.load('{"not": "a list"}')


def test_multipath_and_via_routes_from_ip():
    items = [
        {
            "type": "unicast",
            "dst": "198.18.64.0/24",
            "table": "main",
            "protocol": "boot",
            "scope": "global",
            "flags": [],
            "nexthops": [
                {"gateway": "198.18.0.11", "dev": "br0", "weight": 1, "flags": []},
                {"gateway": "203.0.113.254", "dev": "uplink", "weight": 1, "flags": []},
            ],
        },
        {
            "type": "unicast",
            "dst": "198.51.100.0/24",
            "via": {"family": "inet6", "host": "fe80::1"},
            "dev": "eth0",
            "table": "main",
            "protocol": "static",
            "scope": "global",
            "flags": [],
        },
    ]
    rows = ij.routes_from_ip(items, "inet")
    assert [(r.dst, r.gateway, r.dev) for r in rows] == [
        ("198.18.64.0/24", "198.18.0.11", "br0"),
        ("198.18.64.0/24", "203.0.113.254", "uplink"),
        ("198.51.100.0/24", "fe80::1", "eth0"),
    ]
    assert all(r.scope == "universe" for r in rows)


def test_bridge_vlan_json_on_this_kernel_is_empty():
    assert ij.bridge_vlans_from_bridge_json(_ip("host", "bridge_vlan"), {}) == []


def test_bridge_vlan_json_with_vlans():
    """iproute2 6.1's ``bridge -j vlan show`` format (synthesised: this kernel has no VLAN filtering)."""
    text = (
        '[{"ifname":"br0","vlans":[{"vlan":1,"flags":["PVID","Egress Untagged"]}]},'
        '{"ifname":"vnet0","vlans":[{"vlan":1,"flags":["PVID","Egress Untagged"]},{"vlan":10},'
        '{"vlan":20,"vlanEnd":22}]}]'
    )
    rows = ij.bridge_vlans_from_bridge_json(ij.load(text), {"vnet0": "br0"})
    assert rows == [
        BridgeVlanRow("br0", "br0", 1, True, True),
        BridgeVlanRow("br0", "vnet0", 1, True, True),
        BridgeVlanRow("br0", "vnet0", 10, False, False),
        BridgeVlanRow("br0", "vnet0", 20, False, False),
        BridgeVlanRow("br0", "vnet0", 21, False, False),
        BridgeVlanRow("br0", "vnet0", 22, False, False),
    ]


def test_clip_keeps_evidence_bounded():
    assert ij.clip("abc", 10) == "abc"
    clipped = ij.clip("x" * 100, 10)
    assert clipped.startswith("x" * 10) and "90 more characters" in clipped
