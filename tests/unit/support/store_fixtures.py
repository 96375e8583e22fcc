"""Hand-built sessions for the store, export, redaction and diff tests.

Built from the real row types and real frames (checksums computed here, by an
implementation independent of ``vnetdoctor.redact``), so the tests exercise the
same shapes the probes record: a guest firewall that drops ping, a host veth
that is down, ARP and ICMP frames, an ICMP error quoting a UDP packet, and IPv6
neighbour discovery with EUI-64 link-local addresses.
"""

from __future__ import annotations

import struct

from vnetdoctor.knowledge.model import Diagnosis, Evidence, Finding, Fix, Request, StepResult
from vnetdoctor.knowledge.path import PathPoint
from vnetdoctor.probes.base import Observation
from vnetdoctor.probes.rows import (
    AddrRow,
    FirewallRow,
    LinkRow,
    NeighRow,
    PacketRow,
    RouteRow,
    SysctlRow,
)
from vnetdoctor.probes.vantage import parse_vantage

HOST = "netns:vndt-host"
GUEST = "netns:vndt-guest"
HOST_IP, GUEST_IP, OTHER_IP = "198.18.0.1", "198.18.0.11", "203.0.113.7"
HOST_MAC, GUEST_MAC, BR_MAC = "aa:c1:ab:12:34:56", "52:54:00:ab:cd:ef", "ae:11:22:33:44:55"
# EUI-64 link-local of GUEST_MAC (52:54:00:ab:cd:ef → 5054:00ff:feab:cdef)
GUEST_LL6 = "fe80::5054:ff:feab:cdef"
GUEST_GUA6 = "2001:db8:77:1::11"
T0 = 1_790_000_000.25


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def mac(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


def ip4(text: str) -> bytes:
    return bytes(int(x) for x in text.split("."))


def ip6(text: str) -> bytes:
    import ipaddress

    return ipaddress.IPv6Address(text).packed


def ether(dst: str, src: str, ethertype: int, payload: bytes) -> bytes:
    return mac(dst) + mac(src) + struct.pack("!H", ethertype) + payload


def ipv4(src: str, dst: str, proto: int, payload: bytes, ident: int = 0x1234) -> bytes:
    hdr = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000, 64, proto, 0, ip4(src), ip4(dst)
    )
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def icmp_echo(kind: int, ident: int, seq: int, data: bytes = b"vnetdoctor-probe" * 2) -> bytes:
    msg = struct.pack("!BBHHH", kind, 0, 0, ident, seq) + data
    return msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]


def udp(src: str, dst: str, sport: int, dport: int, data: bytes) -> bytes:
    length = 8 + len(data)
    pseudo = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 17, length)
    seg = struct.pack("!HHHH", sport, dport, length, 0) + data
    return seg[:6] + struct.pack("!H", csum(pseudo + seg) or 0xFFFF) + seg[8:]


def icmp_frag_needed(router: str, quoted_ip: bytes, mtu: int = 1400) -> bytes:
    msg = struct.pack("!BBHHH", 3, 4, 0, 0, mtu) + quoted_ip[: 28 + 20]
    return msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]


def arp(op: int, sha: str, spa: str, tha: str, tpa: str) -> bytes:
    return struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + mac(sha) + ip4(spa) + mac(tha) + ip4(tpa)


def icmpv6_ns(src: str, target: str, lladdr: str) -> bytes:
    import ipaddress

    t = ipaddress.IPv6Address(target)
    dst = ipaddress.IPv6Address("ff02::1:ff00:0") + (int(t) & 0xFFFFFF)
    body = struct.pack("!BBHI", 135, 0, 0, 0) + t.packed + struct.pack("!BB", 1, 1) + mac(lladdr)
    pseudo = ip6(src) + dst.packed + struct.pack("!I3xB", len(body), 58)
    body = body[:2] + struct.pack("!H", csum(pseudo + body)) + body[4:]
    hdr = struct.pack("!IHBB", 0x60000000, len(body), 58, 255) + ip6(src) + dst.packed
    return hdr + body, str(dst)


def frames() -> list[PacketRow]:
    """ARP who-has/is-at, a ping that the guest drops, a frag-needed error, an IPv6 NS."""
    out = []
    req = ether(
        "ff:ff:ff:ff:ff:ff",
        HOST_MAC,
        0x0806,
        arp(1, HOST_MAC, HOST_IP, "00:00:00:00:00:00", GUEST_IP),
    )
    rep = ether(HOST_MAC, GUEST_MAC, 0x0806, arp(2, GUEST_MAC, GUEST_IP, HOST_MAC, HOST_IP))
    ping = ether(GUEST_MAC, HOST_MAC, 0x0800, ipv4(HOST_IP, GUEST_IP, 1, icmp_echo(8, 0x1A2B, 1)))
    quoted = ipv4(HOST_IP, OTHER_IP, 17, udp(HOST_IP, OTHER_IP, 40000, 33434, b"x" * 40))
    frag = ether(
        HOST_MAC,
        BR_MAC,
        0x0800,
        ipv4("198.18.0.254", HOST_IP, 1, icmp_frag_needed("198.18.0.254", quoted)),
    )
    ns6, sn_dst = icmpv6_ns(GUEST_LL6, GUEST_GUA6, GUEST_MAC)
    sn_mac = "33:33:" + ":".join(f"{b:02x}" for b in ip6(sn_dst)[-4:])
    ns = ether(sn_mac, GUEST_MAC, 0x86DD, ns6)
    items = [
        (req, f"ARP who-has {GUEST_IP} tell {HOST_IP}", "arp:1"),
        (rep, f"ARP {GUEST_IP} is-at {GUEST_MAC}", "arp:1"),
        (ping, f"ICMP {HOST_IP} > {GUEST_IP} echo-request id=0x1a2b seq=1", "icmp:6699:1"),
        (frag, f"ICMP 198.18.0.254 > {HOST_IP} frag-needed mtu 1400", ""),
        (ns, f"ICMPv6 {GUEST_LL6} > {sn_dst} neighbour solicitation for {GUEST_GUA6}", ""),
    ]
    for i, (data, summary, tag) in enumerate(items):
        out.append(
            PacketRow(
                time=T0 + 0.001 * (i + 1),
                vantage=HOST,
                iface="vnet0",
                length=len(data),
                summary=summary,
                data_hex=data.hex(),
                linktype=1,
                tag=tag,
            )
        )
    return out


def request() -> Request:
    return Request(target=GUEST_IP, host=parse_vantage(HOST), guest=parse_vantage(GUEST), port=22)


def links(vnet0_up: bool) -> Observation:
    return Observation(
        probe="links",
        vantage=HOST,
        rows=(
            LinkRow(
                1,
                "lo",
                "loopback",
                "UNKNOWN",
                True,
                True,
                65536,
                "00:00:00:00:00:00",
                rx_packets=10,
            ),
            LinkRow(2, "br0", "bridge", "UP", True, True, 1500, BR_MAC, rx_packets=500),
            LinkRow(
                3,
                "vnet0",
                "veth",
                "UP" if vnet0_up else "DOWN",
                vnet0_up,
                vnet0_up,
                1500,
                HOST_MAC,
                master="br0",
                peer_ifindex=2,
                peer_netnsid=0,
                rx_packets=7 if vnet0_up else 3,
            ),
        ),
        raw="3: vnet0@if2: <BROADCAST,MULTICAST> mtu 1500 master br0 link/ether " + HOST_MAC,
        duration_ms=3.25,
        layer="physical",
    )


def addresses() -> Observation:
    return Observation(
        probe="addresses",
        vantage=GUEST,
        rows=(
            AddrRow("eth0", "inet", GUEST_IP, 24, "global"),
            AddrRow("eth0", "inet6", GUEST_LL6, 64, "link"),
            AddrRow("eth0", "inet6", GUEST_GUA6, 64, "global", ("nodad",)),
        ),
        duration_ms=1.5,
        layer="network",
    )


def firewall(blocking: bool) -> Observation:
    rows = [
        FirewallRow(
            "nftables", "inet", "filter", "input", hook="input", policy="accept", priority=0
        ),
        FirewallRow(
            "nftables",
            "inet",
            "filter",
            "input",
            rule="ct state established accept",
            verdict="accept",
            handle=3,
            packets=12,
            bytes=900,
            position=0,
        ),
    ]
    if blocking:
        rows.append(
            FirewallRow(
                "nftables",
                "inet",
                "filter",
                "input",
                rule=f"ip saddr {HOST_IP} icmp type echo-request drop",
                verdict="drop",
                handle=7,
                packets=4,
                bytes=336,
                position=1,
            )
        )
    return Observation(
        probe="firewall.rules", vantage=GUEST, rows=tuple(rows), duration_ms=8.5, layer="network"
    )


def finding() -> Finding:
    return Finding(
        cause="firewall.guest_blocks",
        layer="network",
        summary=f"A firewall rule in the guest drops ICMP echo from {HOST_IP} (nft handle 7).",
        evidence=(
            Evidence(
                f"inet filter input: ip saddr {HOST_IP} icmp type echo-request drop (4 packets)",
                "firewall.rules",
                GUEST,
            ),
            Evidence(
                f"echo request to {GUEST_IP} seen on vnet0, no reply from {GUEST_MAC}",
                "capture",
                HOST,
            ),
        ),
        fixes=(
            Fix.of(
                ("ip", "netns", "exec", "vndt-guest", "nft", "delete", "rule", "inet", "filter", "input", "handle", "7"),
                ("ip", "netns", "exec", "vndt-guest", "nft", "add", "rule", "inet", "filter", "input",
                 "ip", "saddr", HOST_IP, "icmp", "type", "echo-request", "drop"),
                risk="low",
                where=GUEST,
                note="Removes only the rule that drops ping | nothing else.",
            ),
        ),
    )


def steps(fixed: bool, link_down: bool = False) -> list[StepResult]:
    capture = Observation(
        probe="capture",
        vantage=HOST,
        rows=tuple(frames()) if not fixed else tuple(frames()[:3]),
        duration_ms=1500.0,
        params=(("iface", "vnet0"),),
        layer="datalink",
    )
    return [
        StepResult(
            "link.host",
            "physical",
            "Host interfaces up",
            "fail" if link_down else "pass",
            "vnet0 is down" if link_down else "vnet0 and br0 are up",
            12.5,
            (links(not link_down),),
        ),
        StepResult(
            "addr.guest",
            "network",
            "Guest has an address",
            "pass",
            f"eth0 has {GUEST_IP}/24",
            4.0,
            (addresses(),),
        ),
        StepResult(
            "ping.capture",
            "datalink",
            "Where do the echo requests go",
            "warn" if not fixed else "pass",
            "requests reach vnet0, no reply" if not fixed else "requests and replies seen",
            1502.0,
            (capture,),
        ),
        StepResult(
            "firewall.guest",
            "network",
            "Guest firewall",
            "fail" if not fixed else "pass",
            "a rule drops ICMP echo" if not fixed else "nothing drops ICMP echo",
            9.0,
            (firewall(not fixed),),
            (finding(),) if not fixed else (),
        ),
        StepResult(
            "switch.led",
            "physical",
            "Is the switch port LED on?",
            "ask",
            "asked the operator",
            0.0,
            answer="yes",
        ),
        StepResult(
            "sysctl.guest",
            "network",
            "Guest ignores ping?",
            "pass",
            "icmp_echo_ignore_all=0",
            2.0,
            (
                Observation(
                    "sysctls",
                    GUEST,
                    rows=(SysctlRow("net.ipv4.icmp_echo_ignore_all", "0"),),
                    layer="network",
                ),
            ),
        ),
        StepResult(
            "route.host",
            "network",
            "Host route to guest",
            "pass",
            f"{GUEST_IP} via br0",
            1.0,
            (
                Observation(
                    "routes",
                    HOST,
                    rows=(
                        RouteRow(
                            "198.18.0.0/24",
                            dev="br0",
                            protocol="kernel",
                            scope="link",
                            prefsrc=HOST_IP,
                        ),
                    ),
                    layer="network",
                ),
                Observation(
                    "neighbours",
                    HOST,
                    rows=(
                        NeighRow(
                            "br0",
                            GUEST_IP,
                            GUEST_MAC if fixed else "",
                            "REACHABLE" if fixed else "FAILED",
                        ),
                    ),
                    layer="datalink",
                ),
            ),
        ),
    ]


def diagnosis(fixed: bool, link_down: bool = False) -> Diagnosis:
    st = tuple(steps(fixed, link_down))
    return Diagnosis(
        request=request(),
        reachable=fixed,
        causes=() if fixed else (finding(),),
        steps=st,
        duration_ms=1834.0,
        target=GUEST_IP,
        extra={"path": (PathPoint("host", "vnet0"), PathPoint("host", "br0"))},
    )


def record(
    store,
    fixed: bool = False,
    *,
    finish: bool = True,
    scenario: str | None = "guest-firewall",
    link_down: bool = False,
) -> str:
    """Record one session step by step, as the engine's subscriber would."""
    sid = store.start_session(request(), source="diagnose", scenario=scenario)
    for s in steps(fixed, link_down):
        store.record_step(sid, s)
    store.record_event(
        sid, "answer", {"step": "switch.led", "question": "Is the LED on?", "answer": "yes"}
    )
    if not fixed:
        store.record_event(sid, "note", {"text": f"operator saw {GUEST_MAC} in the fdb"})
    if finish:
        store.finish_session(sid, diagnosis(fixed, link_down))
    return sid


def record_fixed(store, scenario: str = "guest-firewall", source: str = "tui") -> str:
    """A walk that found the guest firewall, a fix applied with success, then a healthy verdict."""
    sid = store.start_session(request(), source=source, scenario=scenario)
    for s in steps(fixed=False):
        store.record_step(sid, s)
    store.record_event(sid, "fix_applied", {
        "command": "ip netns exec vndt-guest nft delete rule inet filter input handle 7",
        "argv": [], "returncode": 0, "step": "firewall", "output": "",
    })
    for s in steps(fixed=True):
        store.record_step(sid, s)
    store.finish_session(sid, diagnosis(fixed=True))
    return sid
