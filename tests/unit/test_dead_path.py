"""The symptom's pings stop waiting for replies that cannot come: a device on the path that
passes nothing (down, without carrier, a port off its bridge or not forwarding).

Anything else — every device up and forwarding, or a device that was not read — keeps the
full wait: a reply that could still come must never be cut off.
"""

from __future__ import annotations

import dataclasses

from vnetdoctor.knowledge.path import Hop, Path
from vnetdoctor.knowledge.trace import dead_hop
from vnetdoctor.probes.rows import BridgePortRow, LinkRow
from vnetdoctor.probes.vantage import Vantage

HOST, GUEST = Vantage("netns", "vk2-host"), Vantage("netns", "vk2-guest")
PATH = Path("198.18.0.11", "host", hops=(Hop(HOST, "br0", "host", "bridge"), Hop(HOST, "vnet0", "host", "port"),
                                         Hop(GUEST, "eth0", "guest", "nic")))


def _link(name: str, master: str = "", up: bool = True, carrier: bool = True) -> LinkRow:
    return LinkRow(1, name, "veth", "UP" if up and carrier else "DOWN", up, carrier, 1500, "52:54:00:00:00:01",
                   master=master)


def _links(**changed: LinkRow) -> dict[str, list[LinkRow]]:
    host = {"br0": _link("br0"), "vnet0": _link("vnet0", master="br0")}
    guest = {"eth0": _link("eth0")}
    for name, row in changed.items():
        (guest if name == "eth0" else host)[name] = row
    return {str(HOST): list(host.values()), str(GUEST): list(guest.values())}


FORWARDING = (BridgePortRow("br0", "vnet0", "forwarding"),)


def test_a_healthy_path_keeps_the_full_wait() -> None:
    assert dead_hop(PATH, _links(), FORWARDING) is None
    assert dead_hop(PATH, {}, ()) is None  # nothing read: nothing known, nothing cut


def test_a_device_down_or_without_carrier_passes_nothing() -> None:
    assert dead_hop(PATH, _links(vnet0=_link("vnet0", "br0", up=False)), FORWARDING) == PATH.hops[1]
    assert dead_hop(PATH, _links(eth0=_link("eth0", carrier=False)), FORWARDING) == PATH.hops[2]


def test_a_port_off_its_bridge_or_not_forwarding_passes_nothing() -> None:
    assert dead_hop(PATH, _links(vnet0=_link("vnet0", master="")), FORWARDING) == PATH.hops[1]
    for state in ("listening", "learning", "blocking", "disabled"):
        ports = (dataclasses.replace(FORWARDING[0], state=state),)
        assert dead_hop(PATH, _links(), ports) == PATH.hops[1], state
    # Another bridge's port of the same name says nothing about ours.
    assert dead_hop(PATH, _links(), (BridgePortRow("br9", "vnet0", "blocking"),)) is None


def test_an_uplink_down_is_not_taken_for_the_way_out() -> None:
    """Bridged straight through, every other port of the bridge is an uplink hop: one of them down
    (an unused port) says nothing about the one the target is behind."""
    through = dataclasses.replace(PATH, hops=(*PATH.hops, Hop(HOST, "eth9", "host", "uplink")))
    assert dead_hop(through, {**_links(), str(HOST): [*_links()[str(HOST)], _link("eth9", "br0", carrier=False)]},
                    FORWARDING) is None
