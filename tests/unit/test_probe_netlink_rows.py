"""pyroute2's messages into rows, on recorded dumps of the probe lab.

The small answers (addresses, bridge ports, fdb, VLANs, one route lookup) are
decoded by pyroute2; :mod:`vnetdoctor.probes.netlink_rows` turns its messages
into rows. Here pyroute2 parses the datagrams the lab recorded (see
``test_probe_netlink_decode.py`` for the lab), so each row is checked as the
lab set it up, without root.
"""

from __future__ import annotations

import pytest
from tests.unit.support.probe_recording import messages, names, parse, side
from vnetdoctor.probes import netlink_rows as nr
from vnetdoctor.probes.rows import BridgePortRow, FdbRow


def test_this_kernel_sends_no_vlan_data():
    assert nr.vlan_rows(messages("host", "bridge_vlan"), names("host")) == []


def test_bridge_ports_stp_state_and_flags():
    ports = {
        p.port: p for p in nr.bridge_port_rows(messages("host", "bridge_link"), names("host"))
    }
    assert set(ports) == {"vnet0", "vnet1"}
    assert ports["vnet1"] == BridgePortRow(
        bridge="br0",
        port="vnet1",
        state="listening",
        flood=False,
        bcast_flood=False,
        mcast_flood=True,
        bpdu_guard=True,
        learning=False,
        cost=7,
        priority=9,
        oper_up=True,
    )
    assert ports["vnet0"].state == "listening"
    assert (ports["vnet0"].flood, ports["vnet0"].learning, ports["vnet0"].bpdu_guard) == (
        True,
        True,
        False,
    )


def test_fdb_keeps_bridge_entries_only():
    fdb = nr.fdb_rows(messages("host", "fdb"), names("host"))
    assert FdbRow("br0", "vnet1", "02:00:00:00:00:aa", 0, False, "static") in fdb
    local = [f for f in fdb if f.is_local]
    assert {f.port for f in local} == {"vnet0", "vnet1"}
    assert all(f.state == "permanent" for f in local)
    # the devices' own multicast lists (33:33:..., 01:00:5e:...) are not fdb entries
    assert not [f for f in fdb if f.mac.startswith(("33:33", "01:00:5e"))]
    assert all(f.bridge == "br0" for f in fdb)


@pytest.mark.parametrize(
    ("dst", "kind", "dev", "gateway", "error"),
    [
        ("198.18.0.11", "unicast", "br0", "", ""),
        ("198.51.100.7", "unicast", "br0", "198.18.0.11", ""),
        ("198.19.1.1", "unicast", "uplink", "203.0.113.254", ""),
        ("198.18.0.1", "local", "lo", "", ""),
        ("192.0.2.130", "blackhole", "", "", "Invalid argument"),
        ("192.0.2.70", "unreachable", "", "", "No route to host"),
        ("192.0.2.40", "prohibit", "", "", "Permission denied"),
    ],
)
def test_route_lookup_answers_and_refusals(dst, kind, dev, gateway, error):
    answer = side("host")["lookups"][dst]
    if "chunk" in answer:
        row = nr.route_reply_row(parse([bytes.fromhex(answer["chunk"])]), dst, names("host"))
    else:
        row = nr.lookup_refusal(dst, answer["errno"], answer["strerror"])
    assert (row.dst, row.type, row.dev, row.gateway, row.error) == (dst, kind, dev, gateway, error)
    if not error:
        assert row.table == "main" and row.prefsrc


def test_no_route_at_all_is_unreachable():
    import errno

    row = nr.lookup_refusal("192.0.2.1", errno.ENETUNREACH, "Network is unreachable")
    assert (row.type, row.error) == ("unreachable", "Network is unreachable")
    assert nr.lookup_refusal("192.0.2.1", errno.EIO, "Input/output error").type == "error"


def test_addresses_scopes_and_secondary_flag():
    addrs = nr.addr_rows(messages("host", "addr"), names("host"))
    mine = {(a.ifname, a.address): a for a in addrs}
    assert mine[("br0", "198.18.0.1")].prefixlen == 24
    assert mine[("br0", "198.18.0.1")].scope == "global"
    assert mine[("uplink", "203.0.113.1")].flags == ()
    assert mine[("uplink", "203.0.113.2")].flags == ("secondary",)
    assert mine[("lo", "127.0.0.1")].scope == "host"
    assert all(a.scope == "link" for a in addrs if a.address.startswith("fe80:"))


def test_address_flag_names_follow_iproute2():
    assert nr.addr_flag_names(2, 0x80) == ()
    assert nr.addr_flag_names(2, 0x00) == ("dynamic",)
    assert nr.addr_flag_names(10, 0x01 | 0x40 | 0x80) == ("temporary", "tentative")
    assert nr.addr_flag_names(10, 0x08 | 0x800 | 0x80) == ("dadfailed", "stable-privacy")
