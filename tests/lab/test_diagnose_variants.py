"""Faults the lab does not build: other names and addresses, other firewall backends,
REJECT instead of DROP, the fault on the other side, the reply direction only, and
``--from guest`` towards an outside peer through the host (routed and NAT)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.lab.support.diagnosis import describe, diagnose
from tests.lab.support.variants import Variant, ns_sh

pytestmark = pytest.mark.lab


@pytest.fixture
def variant(request: pytest.FixtureRequest) -> Iterator[Variant]:
    outside = getattr(request, "param", "")
    v = Variant(f"vnd-v{os.getpid() % 100000}{request.node.name[-3:].replace('[', '').replace(']', '')}-",
                outside=outside)
    v.destroy()
    try:
        yield v.build()
    finally:
        v.destroy()


def _shell(v: Variant, where: str, script: str) -> None:
    ns_sh(v.vm if where == "vm" else v.hv, "sh", "-ec", script)


def _host_to_guest(v: Variant, *extra: str) -> list[str]:
    return v.args("--target", v.guest_ip, *extra)


CASES_BRIDGED = [
    # (id, where, script, diagnose args builder, expected first cause)
    ("legacy-reject-in-guest", "vm", "iptables-legacy -A INPUT -p icmp --icmp-type echo-request -j REJECT",
     "h2g", "firewall.guest_blocks"),
    ("nft-drop-reply-only", "vm",
     "nft 'add table inet g; add chain inet g o { type filter hook output priority 0; }; "
     "add rule inet g o icmp type echo-reply drop'", "h2g", "firewall.guest_blocks"),
    ("iptables-nft-drop-on-host-from-guest", "hv", "iptables-nft -A INPUT -p icmp -j DROP",
     "g2h", "firewall.host_blocks"),
    ("echo-ignored-on-host-from-guest", "hv", "sysctl -qw net.ipv4.icmp_echo_ignore_all=1",
     "g2h", "sysctl.icmp_echo_ignored"),
    ("tap-down", "hv", "ip link set tap-vm7 down", "h2g", "link.host_if_down"),
    ("tap-detached", "hv", "ip link set tap-vm7 nomaster", "h2g", "bridge.port_detached"),
    ("guest-mtu-1400", "vm", "ip link set ens3 mtu 1400", "h2g", "mtu.mismatch"),
    ("guest-prefix-28", "vm", "ip addr flush dev ens3; ip addr add 192.0.2.77/28 dev ens3", "h2g",
     "ip.subnet_mismatch"),
    ("guest-noarp", "vm", "ip link set ens3 arp off", "h2g", "arp.suppressed"),
    ("host-bridge-down", "hv", "ip link set lanbr down", "h2g", "link.host_if_down"),
]


@pytest.mark.parametrize("case", CASES_BRIDGED, ids=[c[0] for c in CASES_BRIDGED])
def test_bridged_variant(case: tuple[str, str, str, str, str], variant: Variant) -> None:
    _id, where, script, direction, expected = case
    _shell(variant, where, script)
    if direction == "h2g":
        args = _host_to_guest(variant)
    else:
        args = variant.args("--from", "guest", "--target", variant.host_ip)
    d = diagnose(args)
    assert d.causes and d.causes[0].cause == expected, describe(d)


CASES_OUTSIDE = [
    ("routed", "hv", "sysctl -qw net.ipv4.ip_forward=0", "sysctl.ip_forward_disabled"),
    ("routed", "hv", "iptables-legacy -P FORWARD DROP", "firewall.forward_blocks"),
    ("routed", "hv", "nft 'add table ip f; add chain ip f fw { type filter hook forward priority 0; }; "
     "add rule ip f fw ip saddr 192.0.2.0/24 reject'", "firewall.forward_blocks"),
    ("nat", "hv", "nft delete table ip vnat", "nat.masquerade_missing"),
    ("routed", "vm", "ip route del default", "route.missing"),
    ("routed", "vm", "ip route replace default via 192.0.2.254", "route.wrong_gateway"),
]


@pytest.mark.parametrize(
    ("variant", "case"),
    [(c[0], c) for c in CASES_OUTSIDE],
    ids=[f"{c[0]}-{c[3]}-{i}" for i, c in enumerate(CASES_OUTSIDE)],
    indirect=["variant"],
)
def test_outside_variant(variant: Variant, case: tuple[str, str, str, str]) -> None:
    _topology, where, script, expected = case
    healthy = diagnose(variant.args("--from", "guest", "--target", variant.peer_ip))
    assert healthy.reachable is True and healthy.causes == (), describe(healthy)
    _shell(variant, where, script)
    d = diagnose(variant.args("--from", "guest", "--target", variant.peer_ip))
    assert d.causes and d.causes[0].cause == expected, describe(d)


def test_healthy_variant_names_nothing(variant: Variant) -> None:
    for args in (_host_to_guest(variant), variant.args("--from", "guest", "--target", variant.host_ip)):
        d = diagnose(args)
        assert d.reachable is True and d.causes == (), describe(d)
