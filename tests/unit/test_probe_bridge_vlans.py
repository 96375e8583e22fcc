"""bridge.vlans: decoding VLAN data this kernel cannot produce, and skipping when it cannot answer.

This kernel is built without bridge VLAN filtering, so the VLAN messages are
encoded (and parsed again) by pyroute2 (an independent netlink implementation) in the form a
kernel with VLAN filtering sends for ``bridge vlan show``: one AF_BRIDGE
RTM_NEWLINK per port with IFLA_AF_SPEC holding IFLA_BRIDGE_VLAN_INFO entries.
"""

from __future__ import annotations

import pytest
from tests.unit.support.probe_recording import chunks, parse
from pyroute2.netlink import NLM_F_MULTI
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
from vnetdoctor.probes import bridges
from vnetdoctor.probes import netlink_decode as nd
from vnetdoctor.probes.base import run_probe
from vnetdoctor.probes import netlink_rows as nr
from vnetdoctor.probes.netlink_wire import NLMSG_DONE, NLMSG_HEADER
from vnetdoctor.probes.rows import BridgeVlanRow
from vnetdoctor.probes.vantage import LOCAL

PVID, UNTAGGED, BEGIN, END = 0x2, 0x4, 0x8, 0x10
NAMES = {2: "br0", 5: "vnet0", 6: "vnet1"}


def encode(
    index: int, name: str, master: int | None, vlans: list[tuple[int, int]], family: int = 7
) -> bytes:
    msg = ifinfmsg()
    msg["family"] = family
    msg["index"] = index
    msg["header"]["type"] = 16
    msg["header"]["flags"] = NLM_F_MULTI
    attrs = [("IFLA_IFNAME", name)]
    if master:
        attrs.append(("IFLA_MASTER", master))
    attrs.append(
        (
            "IFLA_AF_SPEC",
            {
                "attrs": [("IFLA_BRIDGE_FLAGS", 0)]
                + [("IFLA_BRIDGE_VLAN_INFO", {"flags": f, "vid": v}) for f, v in vlans]
            },
        )
    )
    msg["attrs"] = attrs
    msg.encode()
    return bytes(msg.data)


def done() -> bytes:
    return NLMSG_HEADER.pack(20, NLMSG_DONE, NLM_F_MULTI, 1, 0) + bytes(4)


def vlan_dump() -> list[bytes]:
    return [
        encode(2, "br0", None, [(PVID | UNTAGGED, 1)])
        + encode(5, "vnet0", 2, [(PVID | UNTAGGED, 1), (0, 10)])
        + encode(6, "vnet1", 2, [(UNTAGGED | BEGIN, 20), (UNTAGGED | END, 22)]),
        done(),
    ]


def test_vlan_entries_and_ranges():
    rows = nr.vlan_rows(parse(vlan_dump()), NAMES)
    assert rows == [
        BridgeVlanRow("br0", "br0", 1, True, True),
        BridgeVlanRow("br0", "vnet0", 1, True, True),
        BridgeVlanRow("br0", "vnet0", 10, False, False),
        BridgeVlanRow("br0", "vnet1", 20, False, True),
        BridgeVlanRow("br0", "vnet1", 21, False, True),
        BridgeVlanRow("br0", "vnet1", 22, False, True),
    ]


def test_non_bridge_family_messages_are_ignored():
    dump = [encode(5, "vnet0", 2, [(0, 10)], family=0), done()]
    assert nr.vlan_rows(parse(dump), NAMES) == []


def _bridge_link(vlan_support: bool) -> nd.DecodedLink:
    data = b""
    if vlan_support:  # IFLA_BR_VLAN_DEFAULT_PVID = 1, as a VLAN-capable kernel always sends it
        data = bytes.fromhex("0600") + bytes.fromhex("2700") + bytes.fromhex("0100") + b"\0\0"
    return nd.DecodedLink(
        2, "br0", "bridge", "UP", 1, 1500, "02:00:00:00:00:01", 0, 0, -1, (0,) * 8, data
    )


def test_vlan_support_is_read_from_the_bridge_options():
    assert nd.bridge_supports_vlans(_bridge_link(True)) is True
    assert nd.bridge_supports_vlans(_bridge_link(False)) is False
    (bridge,) = [link for link in nd.decode_links(chunks("host", "link")) if link.kind == "bridge"]
    assert nd.bridge_supports_vlans(bridge) is False  # this kernel, recorded


def test_probe_skips_when_the_kernel_cannot_answer(monkeypatch):
    monkeypatch.setattr(bridges, "link_dump", lambda: [_bridge_link(False)])
    obs = run_probe("bridge.vlans", LOCAL)
    assert obs.status == "skipped"
    assert "no bridge VLAN filtering" in obs.reason


def test_probe_reads_vlans_when_the_kernel_can(monkeypatch):
    monkeypatch.setattr(bridges, "link_dump", lambda: [_bridge_link(True)])
    monkeypatch.setattr(bridges, "interface_names", lambda: NAMES)

    class FakeIPRoute:
        def get_vlans(self):
            return parse(vlan_dump())

    monkeypatch.setattr(bridges, "with_rtnl", lambda what, fn: fn(FakeIPRoute()))
    obs = run_probe("bridge.vlans", LOCAL)
    assert obs.ok, obs.reason
    assert len(obs.rows) == 6 and "vnet1 master br0 vid 20 untagged" in obs.raw


def test_probe_without_bridges_has_nothing_to_say(monkeypatch):
    monkeypatch.setattr(bridges, "link_dump", list)
    obs = run_probe("bridge.vlans", LOCAL)
    assert obs.ok and obs.rows == ()


@pytest.mark.parametrize("probe_id", ["bridge.list", "bridge.ports", "bridge.fdb"])
def test_bridge_probes_run_here_without_root(probe_id):
    """Reading bridges needs no capability (this namespace may have none: then no rows)."""
    obs = run_probe(probe_id, LOCAL)
    assert obs.ok, obs.reason
