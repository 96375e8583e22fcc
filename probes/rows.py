"""Row types the read-only probes produce: the contract between probes, rules and views.

Every row is a frozen dataclass registered with :func:`~.base.row`, so it can be
recorded as a dict and rebuilt on replay. Field names are part of the contract:
rules key on them and table views show them as columns, in this order.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from .base import row
from .rowkey import Row, hashable, strip_counters
from .vocabulary import Direction, PacketKind


@row
class LinkRow(Row):
    """Key: the name. A re-created tap keeps its name but gets a new ifindex; the rest is state."""

    KEY_FIELDS = ("name",)

    ifindex: int
    name: str
    kind: str  # "veth", "bridge", "tun", "dummy", "" for a physical NIC, "loopback"
    operstate: str  # "UP", "DOWN", "LOWERLAYERDOWN", "UNKNOWN", ...
    admin_up: bool  # IFF_UP
    carrier: bool  # IFF_LOWER_UP
    mtu: int
    mac: str  # "aa:bb:cc:dd:ee:ff" ("" when the link has none)
    master: str = ""  # the bridge (or bond) this link is a port of
    driver: str = ""  # ethtool driver name, or the link kind when ethtool has none
    noarp: bool = False  # IFF_NOARP
    peer_ifindex: int = 0  # veth: IFLA_LINK, the peer's ifindex (in peer_netnsid's namespace)
    peer_netnsid: int = -1  # veth: IFLA_LINK_NETNSID, -1 when the peer is in this namespace
    rx_packets: int = 0
    tx_packets: int = 0
    rx_errors: int = 0
    tx_errors: int = 0
    rx_dropped: int = 0
    tx_dropped: int = 0


@row
class AddrRow(Row):
    """Key: interface, family and address. The prefix length is an attribute, so a fixed
    netmask reads as "prefixlen 16 → 24" (the same address, corrected), not a new address.
    """

    KEY_FIELDS = ("ifname", "family", "address")

    ifname: str
    family: str  # "inet" | "inet6"
    address: str
    prefixlen: int
    scope: str  # "global", "link", "host"
    flags: tuple[str, ...] = ()  # e.g. ("dynamic",), ("tentative",)


@row
class RouteRow(Row):
    """Key: family, table, destination and metric: what the kernel itself keeps unique;
    gateway and device are what a fix changes.
    """

    KEY_FIELDS = ("family", "table", "dst", "metric")

    dst: str  # "default" or "198.18.0.0/24" or a host address for a lookup
    table: str = "main"
    type: str = "unicast"  # unicast, local, broadcast, unreachable, blackhole, prohibit
    gateway: str = ""
    dev: str = ""  # output interface name
    prefsrc: str = ""
    protocol: str = ""  # kernel, boot, static, dhcp, ...
    scope: str = ""  # universe, link, host
    metric: int = 0
    family: str = "inet"


@row
class RouteLookupRow(Row):
    """The kernel's answer to RTM_GETROUTE for one destination (``ip route get``).

    Key: the destination asked about; the answer is what changes.
    """

    KEY_FIELDS = ("dst",)

    dst: str
    type: str  # unicast, local, unreachable, blackhole, prohibit, ... ; "error" with reason
    dev: str = ""
    gateway: str = ""
    prefsrc: str = ""
    table: str = ""
    error: str = ""  # e.g. "Network is unreachable" when the kernel refused


@row
class NeighRow(Row):
    """Key: family, interface and IP address; lladdr and NUD state change over time."""

    KEY_FIELDS = ("family", "ifname", "address")

    ifname: str
    address: str
    lladdr: str  # "" while INCOMPLETE/FAILED
    state: str  # REACHABLE, STALE, DELAY, PROBE, INCOMPLETE, FAILED, PERMANENT, NOARP
    family: str = "inet"


@row
class BridgeRow(Row):
    """Key: the bridge's name; STP and VLAN settings are what a fix changes."""

    KEY_FIELDS = ("name",)

    name: str
    stp_enabled: bool
    forward_delay_s: float
    vlan_filtering: bool
    ageing_time_s: float = 0.0
    nf_call_iptables: bool = False  # per-bridge IFLA_BR_NF_CALL_IPTABLES


@row
class BridgePortRow(Row):
    """Key: the port. A link is a port of at most one bridge, so a tap moved to the right
    bridge reads as "bridge br1 → br0", not as a port gone and another come."""

    KEY_FIELDS = ("port",)

    bridge: str
    port: str
    state: str  # disabled, listening, learning, forwarding, blocking
    flood: bool = True  # IFLA_BRPORT_UNICAST_FLOOD
    bcast_flood: bool = True  # IFLA_BRPORT_BCAST_FLOOD
    mcast_flood: bool = True
    bpdu_guard: bool = False  # IFLA_BRPORT_GUARD
    learning: bool = True
    cost: int = 0
    priority: int = 0
    oper_up: bool = True  # the port's own operstate


@row
class FdbRow(Row):
    """Key: bridge, port, MAC and VLAN. The port is part of it: every port has its own
    permanent entries for the same multicast MACs.
    """

    KEY_FIELDS = ("bridge", "port", "mac", "vlan")

    bridge: str
    port: str
    mac: str
    vlan: int = 0
    is_local: bool = False  # permanent entry for the bridge's/port's own address
    state: str = ""  # reachable, permanent, static, stale


@row
class BridgeVlanRow(Row):
    """Key: bridge, port and VLAN id; pvid/untagged are its settings."""

    KEY_FIELDS = ("bridge", "port", "vid")

    bridge: str
    port: str
    vid: int
    pvid: bool = False
    untagged: bool = False


@row
class SysctlRow(Row):
    """Key: the sysctl's dotted name."""

    KEY_FIELDS = ("key",)

    key: str  # dotted, e.g. "net.ipv4.conf.eth0.rp_filter"
    value: str


@row
class FirewallRow(Row):
    """Key: backend, family, table, chain and the rule text without counters (a chain's
    policy row has empty text). Handles are reassigned on every reload and positions
    move when a rule is inserted above; the text is what stays. The same rule twice in
    one chain stays two rows by its occurrence number.
    """

    KEY_FIELDS = ("backend", "family", "table", "chain", "rule")

    backend: str  # "nftables", "iptables-nft", "iptables-legacy", "ebtables"
    family: str  # ip, ip6, inet, bridge, arp, netdev
    table: str
    chain: str
    hook: str = ""  # input, forward, output, prerouting, postrouting ("" for a regular chain)
    policy: str = ""  # accept/drop for base chains
    priority: int | None = None
    rule: str = ""  # readable rule text ("" for a chain's policy row)
    verdict: str = ""  # accept, drop, reject, jump X, goto X, masquerade, snat, dnat, return, ""
    handle: int | None = None
    packets: int | None = None  # counters, None where the rule has none
    bytes: int | None = None
    manager: str = ""  # libvirt, docker, firewalld, ufw, "" when unknown
    position: int = 0  # order of the rule within its chain (0-based)

    @classmethod
    def key_part(cls, name: str, value: Any) -> Hashable:
        """The rule text without counters (a probe's text may carry them); other fields as is."""
        if name == "rule" and isinstance(value, str):
            return strip_counters(value)
        return hashable(value)


@row
class PacketRow(Row):
    """One captured frame: what packet views list, decode and export to pcap.

    Key: where and when the frame was captured; a frame happens once (the diff counts
    frames, it never pairs them).

    The fields after ``tag`` are what the capture decoded from the frame's bytes
    (:func:`.frame_summary.decode_frame`): rules and views decide by them, never by
    looking for words in ``summary``, which is display text only. A row built without
    decoding (a test's, a benchmark's) leaves them empty; a record made before they
    existed gets them on read, once, in :mod:`vnetdoctor.convert`.
    """

    KEY_FIELDS = ("vantage", "iface", "time")

    time: float  # epoch seconds
    vantage: str  # where it was captured ("netns:vnd-host")
    iface: str
    length: int
    summary: str  # display text, e.g. "out ICMP 198.18.0.1 > 198.18.0.11 echo-request id=6699 seq=1 len=84"
    data_hex: str  # the whole frame as captured, hex
    linktype: int = 1  # pcap LINKTYPE_ETHERNET
    tag: str = ""  # which probe packet this is, e.g. "icmp:6699:1"; "" for background traffic
    direction: Direction = Direction.UNKNOWN  # which way it crossed iface
    proto: str = ""  # "ARP", "ICMP", "TCP", "UDP", "IP" (another IPv4 protocol); "" for other ethertypes
    src: str = ""  # IPv4 source address (ARP: the sender's address)
    dst: str = ""  # IPv4 destination (ARP who-has: the address asked for; is-at: "")
    sport: int = 0  # TCP/UDP ports; 0 for the other protocols
    dport: int = 0
    kind: PacketKind = PacketKind.OTHER  # echo request/reply, ARP who-has/is-at
    info: str = ""  # the rest of the line in short: "echo-request id=6699 seq=1", "who-has 198.18.0.11", "[S.]"
    info_more: str = ""  # what a wide list adds to info: " len=84 DF", " (52:54:00:00:00:01)"
