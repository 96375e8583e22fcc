"""The lean route decoder and pyroute2 agree on a namespace with thousands of routes."""

from __future__ import annotations

import os
import subprocess
from ipaddress import IPv4Address

from tests.unit.support.pyroute2_reference import ref_routes
from vnetdoctor.probes import netlink_decode as nd
from vnetdoctor.probes import netlink_query as nq
from vnetdoctor.probes.netlink_socket import RTM_GETROUTE


# ------------------------------------------------------------------ live, a namespace with a real table


def test_lean_and_pyroute2_agree_on_thousands_of_routes():
    """A few thousand routes of mixed shapes: the shape cache must not change a single row."""
    from vnetdoctor.probes.nsexec import call_in
    from vnetdoctor.probes.vantage import Vantage

    ns = f"vnd-tl{os.getpid()}"
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
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(
            ["ip", "-n", ns, "-batch", "-"], input="\n".join(lines), text=True, check=True
        )
        vantage = Vantage("netns", ns)
        index_names = call_in(vantage, nq.interface_names)
        datagrams = call_in(vantage, nq.dump_raw, RTM_GETROUTE, bytes(12))
        lean = nd.decode_routes(datagrams, index_names)
        assert lean == ref_routes(datagrams, index_names)
        assert len([r for r in lean if r.dst.startswith("198.19.")]) > 3000  # multipath adds rows
        assert {r.type for r in lean} >= {"unicast", "blackhole", "local", "broadcast"}
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)
