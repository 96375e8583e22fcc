"""Every read-only probe against namespaces we build: it must return exactly what we set up.

The lab (:mod:`probe_topology`) is built once for the module under a prefix
unique to this run (``vnd-tp<pid>-``) and removed afterwards, also on failure.
A separate test builds and probes a second lab between two snapshots of the
root namespace, to prove that none of it touches the host.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
from collections.abc import Iterator, Sequence

import pytest
from tests.lab.support.probe_topology import (
    DOWN_LINK,
    FORWARD_DELAY_S,
    GATEWAY,
    GUEST_ADDR,
    GUEST_IF,
    GUEST_MTU,
    GUEST_PORT,
    HOST_BR_ADDR,
    HOST_BRIDGE,
    LEGACY_SOURCE,
    NEIGH_DEV,
    PERMANENT_NEIGH,
    QUIET_PEER,
    QUIET_PORT,
    STALE_NEIGH,
    STATIC_FDB_MAC,
    UPLINK,
    UPLINK_ADDR,
    UPLINK_MTU,
    UPLINK_PEER,
    UPLINK_SECONDARY,
    ProbeLab,
    probe_lab,
)
from vnetdoctor.probes import caps, nsexec
from vnetdoctor.probes.base import ERROR, SKIPPED, load_all, run_probe
from vnetdoctor.probes.nsexec import CommandResult, call_in, run_command
from vnetdoctor.probes.rows import BridgePortRow, FdbRow, NeighRow, RouteRow
from vnetdoctor.probes.vantage import LOCAL, Vantage

PROBES = (
    "link.list",
    "addr.list",
    "route.list",
    "neigh.list",
    "bridge.list",
    "bridge.ports",
    "bridge.fdb",
    "bridge.vlans",
    "sysctl.net",
    "firewall.rules",
)


def _is_root() -> bool:
    return caps.has_cap(caps.CAP_NET_ADMIN) and caps.has_cap(caps.CAP_SYS_ADMIN)


needs_root = pytest.mark.skipif(
    not _is_root(),
    reason="needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to create network namespaces",
)


@pytest.fixture(scope="module")
def lab() -> Iterator[ProbeLab]:
    if not _is_root():
        pytest.skip("needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to create network namespaces")
    load_all()
    with probe_lab(f"vnd-tp{os.getpid()}-") as built:
        yield built


@pytest.fixture
def host(lab: ProbeLab) -> Vantage:
    return Vantage("netns", lab.host)


@pytest.fixture
def guest(lab: ProbeLab) -> Vantage:
    return Vantage("netns", lab.guest)


def rows(probe_id: str, vantage: Vantage, **params: str) -> tuple:
    obs = run_probe(probe_id, vantage, **params)
    assert obs.ok, f"{probe_id}: {obs.status} {obs.reason}"
    return obs.rows


# ------------------------------------------------------------------ physical / data link


@pytest.mark.lab
def test_links(host: Vantage, guest: Vantage) -> None:
    links = {r.name: r for r in rows("link.list", host)}
    assert set(links) == {
        "lo",
        HOST_BRIDGE,
        GUEST_PORT,
        QUIET_PORT,
        QUIET_PEER,
        UPLINK,
        UPLINK_PEER,
        DOWN_LINK,
        f"{DOWN_LINK}p",
    }
    assert links[GUEST_PORT].master == links[QUIET_PORT].master == HOST_BRIDGE
    assert links[UPLINK].mtu == UPLINK_MTU
    assert links[UPLINK_PEER].noarp is True
    assert (links[DOWN_LINK].admin_up, links[DOWN_LINK].carrier, links[DOWN_LINK].operstate) == (
        False,
        False,
        "DOWN",
    )
    # STP keeps both ports listening: the bridge is up but has no carrier
    assert (links[HOST_BRIDGE].admin_up, links[HOST_BRIDGE].carrier) == (True, False)
    # drivers come from ethtool, kinds from rtnetlink
    assert (links[GUEST_PORT].kind, links[GUEST_PORT].driver) == ("veth", "veth")
    assert (links[HOST_BRIDGE].kind, links[HOST_BRIDGE].driver) == ("bridge", "bridge")
    assert links["lo"].kind == "loopback"
    # the guest's eth0 and the host's vnet0 name each other across namespaces
    guest_links = {r.name: r for r in rows("link.list", guest)}
    eth0 = guest_links[GUEST_IF]
    assert eth0.mtu == GUEST_MTU
    assert (
        links[GUEST_PORT].peer_ifindex == eth0.ifindex
        and eth0.peer_ifindex == links[GUEST_PORT].ifindex
    )
    assert links[GUEST_PORT].peer_netnsid >= 0 and eth0.peer_netnsid >= 0
    assert (
        links[QUIET_PORT].peer_ifindex == links[QUIET_PEER].ifindex
        and links[QUIET_PORT].peer_netnsid == -1
    )


@pytest.mark.lab
def test_bridge_and_ports(host: Vantage) -> None:
    (bridge,) = rows("bridge.list", host)
    assert (bridge.name, bridge.stp_enabled, bridge.forward_delay_s, bridge.nf_call_iptables) == (
        HOST_BRIDGE,
        True,
        FORWARD_DELAY_S,
        True,
    )
    assert bridge.vlan_filtering is False
    ports = {p.port: p for p in rows("bridge.ports", host)}
    assert ports[QUIET_PORT] == BridgePortRow(
        bridge=HOST_BRIDGE,
        port=QUIET_PORT,
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
    assert ports[GUEST_PORT].state == "listening" and ports[GUEST_PORT].flood is True
    assert set(ports) == {QUIET_PORT, GUEST_PORT}


@pytest.mark.lab
def test_fdb_and_vlans(host: Vantage) -> None:
    fdb = rows("bridge.fdb", host)
    assert FdbRow(HOST_BRIDGE, QUIET_PORT, STATIC_FDB_MAC, 0, False, "static") in fdb
    assert {f.port for f in fdb if f.is_local} == {QUIET_PORT, GUEST_PORT}
    obs = run_probe("bridge.vlans", host)
    assert obs.status == SKIPPED and "VLAN filtering" in obs.reason


@pytest.mark.lab
def test_neighbours(host: Vantage) -> None:
    neigh = rows("neigh.list", host)
    assert NeighRow(NEIGH_DEV, PERMANENT_NEIGH[0], PERMANENT_NEIGH[1], "PERMANENT", "inet") in neigh
    assert NeighRow(NEIGH_DEV, STALE_NEIGH[0], STALE_NEIGH[1], "STALE", "inet") in neigh


# ------------------------------------------------------------------ network


@pytest.mark.lab
def test_addresses(host: Vantage, guest: Vantage) -> None:
    v4 = {
        (a.ifname, a.address, a.prefixlen, a.flags)
        for a in rows("addr.list", host)
        if a.family == "inet"
    }
    assert v4 == {
        ("lo", "127.0.0.1", 8, ()),
        (HOST_BRIDGE, HOST_BR_ADDR, 24, ()),
        (UPLINK, UPLINK_ADDR, 24, ()),
        (UPLINK, UPLINK_SECONDARY, 24, ("secondary",)),
    }
    guest_v4 = {
        (a.ifname, a.address)
        for a in rows("addr.list", guest)
        if a.family == "inet" and a.scope == "global"
    }
    assert guest_v4 == {(GUEST_IF, GUEST_ADDR)}


@pytest.mark.lab
def test_connected_subnets_agree_with_the_address_probe(host: Vantage, guest: Vantage) -> None:
    """The target check's own reader (a plain socket, no pyroute2) sees what addr.list sees."""
    import ipaddress

    from vnetdoctor.probes.subnets import connected_subnets

    for vantage in (host, guest):
        expected = sorted(
            (str(ipaddress.ip_interface(f"{a.address}/{a.prefixlen}").network), a.ifname)
            for a in rows("addr.list", vantage) if a.family == "inet" and a.scope != "host"
        )
        got = sorted((str(c.network), c.dev) for c in connected_subnets(vantage))
        assert got == expected and got, vantage
    assert connected_subnets(Vantage("netns", "vnd-no-such-namespace")) == []


@pytest.mark.lab
def test_routes(host: Vantage) -> None:
    routes = rows("route.list", host)
    main = [r for r in routes if r.table == "main" and r.family == "inet"]
    assert (
        RouteRow("default", "main", "unicast", GATEWAY, UPLINK, "", "boot", "universe", 0, "inet")
        in main
    )
    assert (
        RouteRow(
            "198.51.100.0/24",
            "main",
            "unicast",
            GUEST_ADDR,
            HOST_BRIDGE,
            "",
            "static",
            "universe",
            100,
            "inet",
        )
        in main
    )
    assert {r.dst: r.type for r in main if r.type != "unicast"} == {
        "192.0.2.128/25": "blackhole",
        "192.0.2.64/26": "unreachable",
        "192.0.2.32/27": "prohibit",
    }
    assert [(r.gateway, r.dev) for r in main if r.dst == "198.18.64.0/24"] == [
        (GUEST_ADDR, HOST_BRIDGE),
        (GATEWAY, UPLINK),
    ]
    assert [r.dst for r in routes if r.table == "100"] == ["198.18.99.0/24"]


@pytest.mark.lab
@pytest.mark.parametrize(
    ("dst", "kind", "dev", "gateway"),
    [
        ("198.51.100.7", "unicast", HOST_BRIDGE, GUEST_ADDR),
        ("198.19.1.1", "unicast", UPLINK, GATEWAY),
        (HOST_BR_ADDR, "local", "lo", ""),
        ("192.0.2.130", "blackhole", "", ""),
        ("192.0.2.70", "unreachable", "", ""),
        ("192.0.2.40", "prohibit", "", ""),
        ("2001:db8::1", "unreachable", "", ""),  # no IPv6 route at all: ENETUNREACH
    ],
)
def test_route_lookup(host: Vantage, dst: str, kind: str, dev: str, gateway: str) -> None:
    (row,) = rows("route.lookup", host, dst=dst)
    assert (row.dst, row.type, row.dev, row.gateway) == (dst, kind, dev, gateway)
    assert bool(row.error) == (kind not in ("unicast", "local"))


@pytest.mark.lab
def test_route_lookup_with_source(host: Vantage) -> None:
    (row,) = rows("route.lookup", host, dst="198.19.1.1", src=UPLINK_SECONDARY)
    assert (row.type, row.dev, row.prefsrc) == ("unicast", UPLINK, UPLINK_SECONDARY)


@pytest.mark.lab
def test_route_lookup_as_received_on_an_interface(host: Vantage) -> None:
    """``iif``: how the host would treat a packet arriving from the gateway."""
    (row,) = rows("route.lookup", host, dst=HOST_BR_ADDR, src=GATEWAY, iif=UPLINK)
    assert (row.type, row.dev, row.prefsrc, row.error) == ("local", "lo", GATEWAY, "")
    # forwarding is off in the lab host: the kernel refuses, and the row says why
    (row,) = rows("route.lookup", host, dst="198.51.100.7", src=GATEWAY, iif=UPLINK)
    assert row.type == "unreachable"
    assert (
        row.error
        == f"No route to host (net.ipv4.conf.{UPLINK}.forwarding=0: this host does not forward)"
    )


@pytest.mark.lab
def test_sysctls_are_read_per_namespace(host: Vantage, guest: Vantage) -> None:
    g = {r.key: r.value for r in rows("sysctl.net", guest)}
    assert g["net.ipv4.icmp_echo_ignore_all"] == "1"
    assert g[f"net.ipv4.conf.{GUEST_IF}.rp_filter"] == "2"
    assert g["net.ipv4.conf.all.arp_ignore"] == "1"
    h = {r.key: r.value for r in rows("sysctl.net", host)}
    assert h["net.ipv4.icmp_echo_ignore_all"] == "0"
    assert (
        f"net.ipv4.conf.{UPLINK}.rp_filter" in h and f"net.ipv4.conf.{GUEST_IF}.rp_filter" not in h
    )
    assert "net.bridge.bridge-nf-call-iptables" in h


def _ping_self(address: str) -> None:
    """One ICMP echo to our own address, inside the namespace (it never leaves lo)."""
    packet = struct.pack("!BBHHH", 8, 0, 0, 0x7664, 1) + b"vnd"
    csum = 0
    data = packet + b"\0"
    for i in range(0, len(packet), 2):
        csum += (data[i] << 8) + data[i + 1]
    csum = (csum >> 16) + (csum & 0xFFFF)
    csum = ~(csum + (csum >> 16)) & 0xFFFF
    packet = packet[:2] + struct.pack("!H", csum) + packet[4:]
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as sock:
        sock.sendto(packet, (address, 0))


@pytest.mark.lab
def test_firewall_every_backend_with_counters(lab: ProbeLab, guest: Vantage) -> None:
    before = {(r.backend, r.rule): r for r in rows("firewall.rules", guest) if r.rule}
    nft_drop = before[("nftables", 'ip protocol icmp counter drop comment "vnd lab"')]
    assert (nft_drop.verdict, nft_drop.family, nft_drop.table, nft_drop.hook) == (
        "drop",
        "inet",
        "vndfilter",
        "input",
    )
    call_in(guest, _ping_self, GUEST_ADDR)
    after = {(r.backend, r.rule): r for r in rows("firewall.rules", guest) if r.rule}
    key = ("nftables", 'ip protocol icmp counter drop comment "vnd lab"')
    assert after[key].packets == nft_drop.packets + 1  # the kernel counted our packet
    assert after[("iptables-nft", f"-s {HOST_BR_ADDR}/32 -p icmp -j DROP")].verdict == "drop"
    assert after[("iptables-nft", "-j DOCKER-USER")].manager == "docker"
    assert after[("ebtables", "-p ARP -j DROP")].family == "bridge"
    if lab.has_legacy:
        legacy = after[("iptables-legacy", f"-s {LEGACY_SOURCE}/32 -p icmp -j DROP")]
        assert (legacy.verdict, legacy.packets) == ("drop", 0)
    policies = {
        (r.backend, r.table, r.chain): r for r in rows("firewall.rules", guest) if not r.rule
    }
    forward = policies[("iptables-nft", "filter", "FORWARD")]
    assert (forward.policy, forward.manager) == ("drop", "docker")


@pytest.mark.lab
def test_firewall_of_an_empty_namespace(host: Vantage) -> None:
    obs = run_probe("firewall.rules", host)
    assert obs.ok and obs.rows == ()


# ------------------------------------------------------------------ the guest path, live


@pytest.mark.lab
def test_guest_path_gives_the_netlink_rows(monkeypatch: pytest.MonkeyPatch, guest: Vantage) -> None:
    """A libvirt vantage whose runner executes in the guest namespace: same rows as netlink."""

    def runner(vantage: Vantage, argv: Sequence[str], timeout: float) -> CommandResult:
        return run_command(guest, argv, timeout)

    monkeypatch.setitem(nsexec._guest_runners, "libvirt", runner)
    vm = Vantage("libvirt", "vm1")

    def zero(r):
        import dataclasses

        return dataclasses.replace(
            r,
            driver="",
            rx_packets=0,
            tx_packets=0,
            rx_errors=0,
            tx_errors=0,
            rx_dropped=0,
            tx_dropped=0,
        )

    assert [zero(r) for r in rows("link.list", vm)] == [zero(r) for r in rows("link.list", guest)]
    for probe_id in ("addr.list", "route.list", "neigh.list", "sysctl.net"):
        assert sorted(rows(probe_id, vm), key=repr) == sorted(rows(probe_id, guest), key=repr), (
            probe_id
        )
    assert rows("route.lookup", vm, dst="198.19.1.1") == rows(
        "route.lookup", guest, dst="198.19.1.1"
    )
    fw_vm = {(r.backend, r.table, r.chain, r.rule, r.verdict) for r in rows("firewall.rules", vm)}
    fw_ns = {
        (r.backend, r.table, r.chain, r.rule, r.verdict) for r in rows("firewall.rules", guest)
    }
    assert fw_vm == fw_ns


# ------------------------------------------------------------------ failures become observations


@pytest.mark.lab
@needs_root
@pytest.mark.parametrize("probe_id", PROBES)
def test_missing_namespace_is_an_error_observation(probe_id: str) -> None:
    obs = run_probe(probe_id, Vantage("netns", f"vnd-tp{os.getpid()}-does-not-exist"))
    assert obs.status == ERROR
    assert "unknown network namespace" in obs.reason


def test_missing_capability_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(caps, "effective_caps", lambda: 0)
    obs = run_probe("firewall.rules", LOCAL)
    assert (obs.status, obs.reason) == (SKIPPED, "needs CAP_NET_ADMIN")
    obs = run_probe("link.list", Vantage("netns", "vnd-any"))
    assert (obs.status, obs.reason) == (SKIPPED, "needs CAP_SYS_ADMIN")
    # reading this namespace needs no capability at all
    assert run_probe("link.list", LOCAL).ok


# ------------------------------------------------------------------ the root namespace is untouched


def _root_snapshot() -> dict[str, object]:
    """Root namespace state that a lab must never change (others' lab links filtered out)."""

    def ip_json(*args: str) -> list:
        out = subprocess.run(["ip", "-j", *args], capture_output=True, text=True, check=True).stdout
        return json.loads(out) if out.strip() else []

    links = sorted(
        (
            l["ifname"],
            l.get("mtu"),
            l.get("address"),
            "UP" in l.get("flags", []),
            l.get("master", ""),
        )
        for l in ip_json("link", "show")
        if not l["ifname"].startswith("vnd")
    )
    routes = sorted(
        json.dumps(r, sort_keys=True)
        for r in ip_json("route", "show", "table", "all")
        if not str(r.get("dev", "")).startswith("vnd")
    )
    nft = subprocess.run(
        ["nft", "-j", "list", "ruleset"], capture_output=True, text=True, check=False
    ).stdout
    ruleset = [
        item for item in json.loads(nft or '{"nftables": []}')["nftables"] if "metainfo" not in item
    ]
    sysctls = {}
    for key in (
        "net/ipv4/ip_forward",
        "net/ipv4/icmp_echo_ignore_all",
        "net/ipv4/conf/all/rp_filter",
        "net/ipv4/conf/all/arp_ignore",
    ):
        with open(f"/proc/sys/{key}") as fh:
            sysctls[key] = fh.read().strip()
    netns = (
        sorted(n for n in os.listdir("/run/netns") if n.startswith(f"vnd-tr{os.getpid()}"))
        if os.path.isdir("/run/netns")
        else []
    )
    return {"links": links, "routes": routes, "nft": ruleset, "sysctls": sysctls, "netns": netns}


@pytest.mark.lab
@needs_root
def test_building_probing_and_removing_a_lab_leaves_the_root_namespace_alone() -> None:
    load_all()
    before = _root_snapshot()
    prefix = f"vnd-tr{os.getpid()}-"
    with probe_lab(prefix) as lab:
        for ns in (lab.host, lab.guest):
            for probe_id in PROBES:
                run_probe(probe_id, Vantage("netns", ns))
        assert sorted(n for n in os.listdir("/run/netns") if n.startswith(prefix)) == [
            lab.guest,
            lab.host,
        ]
    after = _root_snapshot()
    assert after == before
    assert not [n for n in os.listdir("/run/netns") if n.startswith(prefix)]
    # and the probes on the root namespace itself only read
    for probe_id in PROBES:
        run_probe(probe_id, LOCAL)
    assert _root_snapshot() == before
