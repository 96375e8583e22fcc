"""The scenario catalogue: one topology plus one fault, injected the way it happens for real.

Each fault is implemented by what it *is* on a real host (an nft rule in the
guest, a sysctl, STP on the bridge, a rogue machine answering ARP), never by a
shortcut that only looks like it to vnetdoctor's probes, and each has a revert
that restores the healthy behaviour. The tests prove both with tools that are
not vnetdoctor's (see :mod:`.checks`). The faults themselves live in
:mod:`.faults`; this module is the table that names them.

Scenario names are the cause ids they inject (``firewall.guest_blocks``), plus
``healthy*`` baselines (one per topology, no cause) and ``bpdu-guard`` (a second,
persistent way to get ``bridge.port_blocking``).
"""

from __future__ import annotations

from dataclasses import dataclass

from vnetdoctor.knowledge.model import Request
from vnetdoctor.probes.vantage import Vantage

from . import kernel
from .checks import DNS, DNS_NAME, LAB_PORT, PING, PING_DF_1400, TCP, Check, CheckSpec
from .faults import (
    FORWARD_DROP,
    GUEST_ICMP_DROP,
    GUEST_TCP_DROP,
    Action,
    _arp_blackhole,
    _arp_blackhole_off,
    _attach_port,
    _bpdu_guard_trip,
    _bridge_filter_on,
    _bridge_own_mac,
    _bridge_takes_guest_mac,
    _detach_port,
    _docker_style_forward_drop,
    _docker_style_undo,
    _drop_table,
    _flood_off,
    _flood_on,
    _guest_address_back,
    _guest_nic_down,
    _guest_nic_return,
    _guest_nic_up,
    _guest_nic_vanish,
    _guest_no_address,
    _guest_wrong_prefix,
    _host_if,
    _host_port_down,
    _host_port_up,
    _iptables_legacy_icmp,
    _masquerade_off,
    _masquerade_on,
    _mtu_normal,
    _mtu_small,
    _nft_action,
    _rogue_gone,
    _rogue_up,
    _route_action,
    _start_dns,
    _start_tcp,
    _stop,
    _stp_listening,
    _stp_off,
    _sysctl_action,
    _vbox_address,
    _vbox_no_address,
    _vlan_match,
    _vlan_mismatch,
)
from .topology import (
    BRIDGED,
    GUEST,
    HOST,
    NAT,
    ROUTED,
    TOPOLOGIES,
    VIRTUALBOX,
    VMWARE,
    WAN,
    Topology,
)


@dataclass(frozen=True)
class DiagnoseSpec:
    """How ``vnetdoctor diagnose`` should be pointed at the fault."""

    from_side: str = "host"  # "host" | "guest"
    target: str = "guest"  # host / guest / peer (topology addresses)
    port: int | None = None


@dataclass(frozen=True)
class Scenario:
    """A named topology + fault. ``cause`` is the cause id it injects (None: healthy)."""

    name: str
    cause: str | None
    topology: str
    description: dict[str, str]  # {"en": …, "zh": …}: what is broken and how
    check_specs: tuple[CheckSpec, ...]
    diagnose: DiagnoseSpec = DiagnoseSpec()
    inject: Action | None = None
    revert: Action | None = None
    needs: tuple[str, ...] = ()
    notes: str = ""  # what cannot be simulated, timing caveats

    @property
    def topo(self) -> Topology:
        return TOPOLOGIES[self.topology]

    def describe(self, lang: str = "en") -> str:
        return self.description.get(lang) or self.description["en"]

    def available(self) -> str | None:
        """None when the scenario can run here, else the one-line reason it cannot."""
        return kernel.missing(self.needs)

    def _resolve(self, spec: CheckSpec, prefix: str, expect_ok: bool | None = None) -> Check:
        topo = self.topo
        target = spec.dst if spec.kind == DNS else topo.address(spec.dst)
        answer = topo.host_ip if spec.kind == DNS and spec.dst == DNS_NAME else None
        return Check(
            spec.kind, f"{prefix}{spec.src}", target,
            spec.expect_ok if expect_ok is None else expect_ok,
            port=LAB_PORT if spec.kind == TCP else None,
            expect_reason=None if expect_ok else spec.expect_reason,
            expect_answer=answer,
        )

    def checks(self, prefix: str) -> list[Check]:
        """What the fault breaks (expect_ok False) and what it leaves working (True)."""
        return [self._resolve(s, prefix) for s in self.check_specs]

    def healthy_checks(self, prefix: str) -> list[Check]:
        """After a revert: the topology's healthy checks plus this scenario's, all passing."""
        out: list[Check] = []
        for spec in (*self.topo.healthy_checks, *self.check_specs):
            check = self._resolve(spec, prefix, expect_ok=True)
            if check not in out:
                out.append(check)
        return out

    def request(self, prefix: str, lang: str = "en") -> Request:
        """What to diagnose in this lab: a Request (validated by the session like any other)."""
        return Request(self.topo.address(self.diagnose.target), Vantage("netns", f"{prefix}{HOST}"),
                       Vantage("netns", f"{prefix}{GUEST}"), self.diagnose.from_side,
                       self.diagnose.port or None, lang)

    def diagnose_args(self, prefix: str) -> list[str]:
        """The same request as ``vnetdoctor diagnose`` options, for the command ``lab up`` shows."""
        return self.request(prefix).argv()

    def to_dict(self) -> dict[str, object]:
        reason = self.available()
        return {
            "name": self.name,
            "cause": self.cause,
            "topology": self.topology,
            "description": dict(self.description),
            "available": reason is None,
            "reason": reason or "",
            "notes": self.notes,
            "diagnose_args": self.diagnose_args("vnd-"),
            "checks": [c._asdict() for c in self.checks("vnd-")],
        }


# --- the catalogue -----------------------------------------------------------------------------

def _c(kind: str, src: str, dst: str, ok: bool, reason: str | None = None) -> CheckSpec:
    return CheckSpec(kind, src, dst, ok, reason)


H2G = _c(PING, HOST, "guest", False)
G2H = _c(PING, GUEST, "host", False)
G2P = _c(PING, GUEST, "peer", False)
H2G_OK = _c(PING, HOST, "guest", True)
G2H_OK = _c(PING, GUEST, "host", True)
TCP_OK = _c(TCP, HOST, "guest", True)
FROM_GUEST_TO_PEER = DiagnoseSpec("guest", "peer")


def _healthy(name: str, topo: Topology, zh: str) -> Scenario:
    return Scenario(
        name=name, cause=None, topology=topo.name,
        description={"en": f"no fault: {topo.summary}", "zh": f"无故障：{zh}"},
        check_specs=topo.healthy_checks,
        diagnose=DiagnoseSpec(port=LAB_PORT),
    )


_ALL: list[Scenario] = [
    _healthy("healthy", BRIDGED, "KVM 桥接：客户机挂在宿主机网桥 br0（端口 vnet0）上，上联口 eth0 也在 br0 上"),
    _healthy("healthy-nat", NAT, "类似 libvirt default 的 NAT 网络：virbr0 198.18.122.1/24，经 eth0 做地址伪装"),
    _healthy("healthy-routed", ROUTED, "路由模式：客户机网段 198.19.10.0/24 由宿主机路由转发（不做 NAT）"),
    _healthy("healthy-vmware", VMWARE, "模拟 VMware Workstation：vmnet1（仅主机）与 vmnet8（NAT），客户机在 vmnet8 上"),
    _healthy("healthy-virtualbox", VIRTUALBOX, "模拟 VirtualBox 仅主机网络：vboxnet0 198.18.56.1/24"),
    Scenario(
        "link.host_if_down", "link.host_if_down", "bridged",
        {"en": "the guest's tap vnet0 on the host is admin-down: nothing crosses it either way",
         "zh": "宿主机上客户机的 tap 接口 vnet0 被 down：双向都不通"},
        (H2G, G2H), inject=_host_port_down, revert=_host_port_up,
    ),
    Scenario(
        "link.guest_if_down", "link.guest_if_down", "bridged",
        {"en": "eth0 inside the guest is down (the host side looks fine)",
         "zh": "客户机内的 eth0 处于 down 状态（宿主机一侧看起来一切正常）"},
        (H2G, G2H), inject=_guest_nic_down, revert=_guest_nic_up,
    ),
    Scenario(
        "guest.no_nic", "guest.no_nic", "bridged",
        {"en": "the guest sees only lo: its NIC has no driver (the device is moved out of the guest's "
               "namespace), while the host's tap vnet0 stays up with carrier as QEMU keeps it",
         "zh": "客户机里只有 lo：网卡没有驱动（设备被移出客户机命名空间），而宿主机上的 tap vnet0 仍然 up 且有载波"},
        (H2G,), inject=_guest_nic_vanish, revert=_guest_nic_return,
    ),
    Scenario(
        "bridge.port_detached", "bridge.port_detached", "bridged",
        {"en": "vnet0 is up but no longer a port of br0 (nomaster)",
         "zh": "vnet0 是 up 的，但已不再是 br0 的端口（没有 master）"},
        (H2G, G2H), inject=_detach_port, revert=_attach_port,
    ),
    Scenario(
        "bridge.port_blocking", "bridge.port_blocking", "bridged",
        {"en": "STP is on with a 30 s forward delay and vnet0 flapped (guest reboot): the port sits in "
               "listening, then learning, and forwards nothing for 60 s",
         "zh": "网桥开启了 STP，转发延迟 30 秒，vnet0 刚闪断过（客户机重启）：端口处于 listening/learning 状态，60 秒内不转发"},
        (H2G, G2H), inject=_stp_listening, revert=_stp_off,
        notes="the fault heals by itself 2 x forward_delay (60 s) after lab up: diagnose within a minute, "
              "or use the bpdu-guard scenario for a port that stays blocked",
    ),
    Scenario(
        "bpdu-guard", "bridge.port_blocking", "bridged",
        {"en": "STP with BPDU guard on vnet0; the guest sent a BPDU, so the bridge disabled the port "
               "(stays disabled until someone re-enables it)",
         "zh": "网桥开启 STP，且 vnet0 开启了 BPDU guard；客户机发出了 BPDU，网桥把该端口置为 disabled（不会自行恢复）"},
        (H2G, G2H), inject=_bpdu_guard_trip, revert=_stp_off,
    ),
    Scenario(
        "bridge.flood_disabled", "bridge.flood_disabled", "bridged",
        {"en": "learning, unicast, multicast and broadcast flooding are off on vnet0 and there is no static "
               "fdb entry for the guest's MAC: the LAN's ARP requests and every frame to the guest stop at br0",
         "zh": "vnet0 上关闭了 MAC 学习以及单播/组播/广播泛洪，且没有客户机 MAC 的静态 fdb 表项：发往客户机的 ARP 请求和帧都止步于 br0"},
        (H2G, G2H, _c(PING, WAN, "guest", False)), inject=_flood_off, revert=_flood_on,
    ),
    Scenario(
        "firewall.bridge_filter", "firewall.bridge_filter", "bridged",
        {"en": "an nftables bridge-family table (what ebtables-nft writes) drops IPv4 frames from and to "
               "vnet0; ARP still passes, so neighbours resolve but no packet gets through",
         "zh": "nftables 的 bridge 族规则（ebtables-nft 写入的那种）丢弃进出 vnet0 的 IPv4 帧；ARP 仍可通过，邻居能解析但报文过不去"},
        (H2G, G2H, G2P), inject=_bridge_filter_on, revert=_drop_table(HOST, "bridge", "filter"),
        needs=(kernel.NFT,),
    ),
    Scenario(
        "vlan.mismatch", "vlan.mismatch", "bridged",
        {"en": "br0 does VLAN filtering and vnet0 carries only VLAN 10 (untagged PVID 10) while the host "
               "and the uplink are in VLAN 1",
         "zh": "br0 开启了 VLAN 过滤，vnet0 只承载 VLAN 10（PVID 10，untagged），而宿主机和上联口在 VLAN 1"},
        (H2G, G2H), inject=_vlan_mismatch, revert=_vlan_match, needs=(kernel.VLAN,),
    ),
    Scenario(
        "mtu.mismatch", "mtu.mismatch", "bridged",
        {"en": "the guest's eth0 has MTU 1280 while the host side is 1500: small pings pass, 1400-byte "
               "pings with DF vanish on the way into the guest",
         "zh": "客户机 eth0 的 MTU 是 1280，而宿主机一侧是 1500：小包能 ping 通，1400 字节且带 DF 的 ping 在进入客户机时消失"},
        (H2G_OK, _c(PING_DF_1400, HOST, "guest", False)), inject=_mtu_small, revert=_mtu_normal,
    ),
    Scenario(
        "mac.duplicate", "mac.duplicate", "bridged",
        {"en": "the host bridge br0 carries the guest's own MAC (a cloned/P2V guest kept the MAC the "
               "bridge took from the NIC): frames for the guest are taken as the bridge's own",
         "zh": "宿主机网桥 br0 使用了与客户机相同的 MAC（克隆或 P2V 迁移的客户机沿用了网桥从物理网卡继承的 MAC）：发给客户机的帧被网桥当成自己的"},
        (H2G, G2H), inject=_bridge_takes_guest_mac, revert=_bridge_own_mac,
    ),
    Scenario(
        "arp.suppressed", "arp.suppressed", "bridged",
        {"en": "arp_ignore=8 in the guest: it answers no ARP request, so the host never learns its MAC",
         "zh": "客户机内 arp_ignore=8：不回应任何 ARP 请求，宿主机永远学不到它的 MAC"},
        (H2G,), inject=_sysctl_action(GUEST, {"net.ipv4.conf.all.arp_ignore": 8}),
        revert=_sysctl_action(GUEST, {"net.ipv4.conf.all.arp_ignore": 0}),
    ),
    Scenario(
        "arp.unresolved", "arp.unresolved", "bridged",
        {"en": "ARP never reaches the guest's stack (a tc ingress program on the guest's eth0 drops every "
               "ARP frame): the host's neighbour entry stays INCOMPLETE, with no firewall rule, sysctl or "
               "bridge setting to explain it",
         "zh": "ARP 到不了客户机协议栈（客户机 eth0 入方向的 tc 程序丢弃所有 ARP 帧）：宿主机的邻居表项一直是 INCOMPLETE，防火墙、sysctl、网桥设置都看不出原因"},
        (H2G, G2H), inject=_arp_blackhole, revert=_arp_blackhole_off, needs=(kernel.TC_BPF,),
        notes="this kernel has no cls_matchall/act_gact: the drop is a one-instruction classic BPF "
              "program (ret #2 = TC_ACT_SHOT) in a cls_bpf direct-action filter on a clsact qdisc",
    ),
    Scenario(
        "ip.no_address", "ip.no_address", "nat",
        {"en": "the guest's eth0 is up without any IPv4 address (its DHCP client got no lease)",
         "zh": "客户机 eth0 已 up 但没有任何 IPv4 地址（DHCP 没有拿到租约）"},
        (H2G,), inject=_guest_no_address, revert=_guest_address_back,
    ),
    Scenario(
        "ip.subnet_mismatch", "ip.subnet_mismatch", "bridged",
        {"en": "the guest has 198.18.0.11/29 (netmask typed as 255.255.255.248): the host 198.18.0.1 and "
               "the gateway are outside its subnet, so it cannot answer or reach them",
         "zh": "客户机地址配成了 198.18.0.11/29（掩码写成 255.255.255.248）：宿主机 198.18.0.1 和网关都不在它的子网内，无法应答也无法访问"},
        (H2G, G2H), inject=_guest_wrong_prefix, revert=_guest_address_back,
    ),
    Scenario(
        "ip.duplicate", "ip.duplicate", "bridged",
        {"en": "a rogue machine on br0 (namespace rogue, port vnet9) has the guest's IP, announces it with "
               "gratuitous ARP and wins the host's ARP entry; it ignores ping",
         "zh": "br0 上有一台“冒名”机器（命名空间 rogue，端口 vnet9）使用客户机的 IP，并用免费 ARP 宣告，抢占了宿主机的 ARP 表项；它不回应 ping"},
        (H2G,), inject=_rogue_up, revert=_rogue_gone,
    ),
    Scenario(
        "route.missing", "route.missing", "nat",
        {"en": "the guest has no default route: it reaches the host's subnet but nothing beyond",
         "zh": "客户机没有默认路由：能访问宿主机所在网段，但访问不了外部"},
        (G2P, H2G_OK), diagnose=FROM_GUEST_TO_PEER,
        inject=_route_action("route del default"), revert=_route_action("route replace default via {gw}"),
    ),
    Scenario(
        "route.wrong_gateway", "route.wrong_gateway", "nat",
        {"en": "the guest's default gateway is 198.18.122.254, which does not exist",
         "zh": "客户机的默认网关是 198.18.122.254，而这个地址并不存在"},
        (G2P, G2H_OK), diagnose=FROM_GUEST_TO_PEER,
        inject=_route_action("route replace default via 198.18.122.254"),
        revert=_route_action("route replace default via {gw}"),
    ),
    Scenario(
        "route.rp_filter", "route.rp_filter", "routed-asym",
        {"en": "strict reverse-path filtering (rp_filter=1) on a two-NIC host: the guest's pings leave by "
               "eth0, the replies come back on eth1 and are dropped",
         "zh": "双网卡宿主机开启了严格反向路径过滤（rp_filter=1）：客户机的 ping 从 eth0 出去，回包从 eth1 回来而被丢弃"},
        (G2P, H2G_OK), diagnose=FROM_GUEST_TO_PEER,
        inject=_sysctl_action(HOST, {"net.ipv4.conf.all.rp_filter": 1}),
        revert=_sysctl_action(HOST, {"net.ipv4.conf.all.rp_filter": 0}),
    ),
    Scenario(
        "sysctl.icmp_echo_ignored", "sysctl.icmp_echo_ignored", "bridged",
        {"en": "net.ipv4.icmp_echo_ignore_all=1 in the guest: it ignores pings but TCP works and it can "
               "ping out",
         "zh": "客户机内 net.ipv4.icmp_echo_ignore_all=1：忽略所有 ping，但 TCP 正常，它自己也能 ping 出去"},
        (H2G, G2H_OK, TCP_OK),
        inject=_sysctl_action(GUEST, {"net.ipv4.icmp_echo_ignore_all": 1}),
        revert=_sysctl_action(GUEST, {"net.ipv4.icmp_echo_ignore_all": 0}),
    ),
    Scenario(
        "sysctl.ip_forward_disabled", "sysctl.ip_forward_disabled", "nat",
        {"en": "net.ipv4.ip_forward=0 on the NAT host: the guest reaches the host but nothing beyond",
         "zh": "NAT 宿主机上 net.ipv4.ip_forward=0：客户机能访问宿主机，但出不去"},
        (G2P, G2H_OK), diagnose=FROM_GUEST_TO_PEER,
        inject=_sysctl_action(HOST, {"net.ipv4.ip_forward": 0}),
        revert=_sysctl_action(HOST, {"net.ipv4.ip_forward": 1}),
    ),
    Scenario(
        "firewall.host_blocks", "firewall.host_blocks", "bridged",
        {"en": "an iptables-legacy rule on the host (INPUT -p icmp -j DROP) drops every ICMP packet to the "
               "host: neither side gets a ping answer, TCP still works",
         "zh": "宿主机上的 iptables-legacy 规则（INPUT -p icmp -j DROP）丢弃所有发往宿主机的 ICMP：双方都 ping 不通，TCP 正常"},
        (H2G, G2H, TCP_OK), inject=_iptables_legacy_icmp("-A"), revert=_iptables_legacy_icmp("-D"),
        needs=(kernel.IPTABLES_LEGACY,),
    ),
    Scenario(
        "firewall.guest_blocks", "firewall.guest_blocks", "bridged",
        {"en": "an nftables rule in the guest drops ICMP echo requests: the host cannot ping it, it can "
               "ping the host",
         "zh": "客户机内的 nftables 规则丢弃 ICMP echo request：宿主机 ping 不通客户机，客户机能 ping 通宿主机"},
        (H2G, G2H_OK, TCP_OK), inject=_nft_action(GUEST, GUEST_ICMP_DROP),
        revert=_drop_table(GUEST, "inet", "filter"), needs=(kernel.NFT,),
    ),
    Scenario(
        "firewall.forward_blocks", "firewall.forward_blocks", "nat",
        {"en": "an nftables forward chain with policy drop (as a hardened nftables.conf has) next to "
               "libvirt's rules: NATed traffic from the guest dies on the host",
         "zh": "除 libvirt 自己的规则外，还有一条默认策略为 drop 的 nftables forward 链（加固过的 nftables.conf 常见）：客户机经 NAT 出去的流量在宿主机上被丢弃"},
        (G2P, G2H_OK), diagnose=FROM_GUEST_TO_PEER, inject=_nft_action(HOST, FORWARD_DROP),
        revert=_drop_table(HOST, "inet", "filter"), needs=(kernel.NFT,),
    ),
    Scenario(
        "firewall.br_netfilter_drop", "firewall.br_netfilter_drop", "bridged",
        {"en": "bridge-nf-call-iptables=1 in the host namespace and an iptables FORWARD policy of DROP "
               "(what Docker sets): bridged traffic between the guest and the LAN is dropped, the host "
               "itself still reaches the guest",
         "zh": "宿主机命名空间里 bridge-nf-call-iptables=1，且 iptables FORWARD 默认策略为 DROP（Docker 会这样设置）：客户机与局域网之间的桥接流量被丢弃，宿主机本身仍能访问客户机"},
        (G2P, _c(PING, WAN, "guest", False), H2G_OK), diagnose=FROM_GUEST_TO_PEER,
        inject=_docker_style_forward_drop, revert=_docker_style_undo,
        needs=(kernel.BR_NETFILTER_NETNS, kernel.IPTABLES_NFT, kernel.NFT),
    ),
    Scenario(
        "nat.masquerade_missing", "nat.masquerade_missing", "nat",
        {"en": "libvirt's guest_nat chain is empty (masquerade rules flushed): the guest reaches the host, "
               "but its packets leave with their private source and the outside peer has no route back",
         "zh": "libvirt 的 guest_nat 链被清空（地址伪装规则没了）：客户机能访问宿主机，但报文带着内部源地址出去，外部对端没有回程路由"},
        (G2P, G2H_OK), diagnose=FROM_GUEST_TO_PEER, inject=_masquerade_off, revert=_masquerade_on,
        needs=(kernel.NFT,),
    ),
    Scenario(
        "tcp.port_closed", "tcp.port_closed", "bridged",
        {"en": f"nothing listens on the guest's port {LAB_PORT} (the service is stopped): connections "
               "are refused with RST, ping works",
         "zh": f"客户机的 {LAB_PORT} 端口没有程序监听（服务已停止）：连接被 RST 拒绝，ping 正常"},
        (_c(TCP, HOST, "guest", False, "refused"), H2G_OK), diagnose=DiagnoseSpec(port=LAB_PORT),
        inject=_stop("tcp"), revert=_start_tcp,
    ),
    Scenario(
        "tcp.port_filtered", "tcp.port_filtered", "bridged",
        {"en": f"the service listens on {LAB_PORT} but an nftables rule in the guest drops the SYNs "
               "silently: connections time out, ping works",
         "zh": f"服务在 {LAB_PORT} 端口监听，但客户机内的 nftables 规则悄悄丢弃 SYN：连接超时，ping 正常"},
        (_c(TCP, HOST, "guest", False, "timeout"), H2G_OK), diagnose=DiagnoseSpec(port=LAB_PORT),
        inject=_nft_action(GUEST, GUEST_TCP_DROP), revert=_drop_table(GUEST, "inet", "filter"),
        needs=(kernel.NFT,),
    ),
    Scenario(
        "dns.unresolvable", "dns.unresolvable", "nat",
        {"en": "the guest's resolver (the host's DNS service on virbr0, like libvirt's dnsmasq) is not "
               "running: names do not resolve, addresses work",
         "zh": "客户机使用的 DNS（宿主机 virbr0 上的 DNS 服务，相当于 libvirt 的 dnsmasq）没有运行：域名解析失败，用 IP 访问正常"},
        (_c(DNS, GUEST, DNS_NAME, False, "unresolved"), G2H_OK), diagnose=FROM_GUEST_TO_PEER,
        inject=_stop("dns"), revert=_start_dns,
    ),
    Scenario(
        "vmware.vmnet_down", "vmware.vmnet_down", "vmware",
        {"en": "simulated VMware host: vmnet8 is down, so the NAT network's guests are cut off from the "
               "host (vmnet1 is fine). The vmmon/vmnet kernel modules and the NAT/DHCP services cannot "
               "be simulated here",
         "zh": "模拟的 VMware 宿主机：vmnet8 处于 down 状态，NAT 网络里的客户机与宿主机断开（vmnet1 正常）。vmmon/vmnet 内核模块以及 NAT/DHCP 服务无法在此模拟"},
        (H2G, G2H), inject=_host_if("down"), revert=_host_if("up"),
        notes="only the interfaces are simulated: vmmon/vmnet modules and vmnet-natd/vmnet-dhcpd are not",
    ),
    Scenario(
        "virtualbox.hostonly_down", "virtualbox.hostonly_down", "virtualbox",
        {"en": "simulated VirtualBox host: vboxnet0 is up but has lost its address 198.18.56.1/24 (as "
               "after a host reboot before VirtualBox configured it)",
         "zh": "模拟的 VirtualBox 宿主机：vboxnet0 是 up 的，但没有地址 198.18.56.1/24（宿主机重启后 VirtualBox 尚未配置它时就是这样）"},
        (H2G, G2H), inject=_vbox_no_address, revert=_vbox_address,
        notes="only the interface is simulated: the vboxdrv/vboxnetadp modules are not",
    ),
]

SCENARIOS: dict[str, Scenario] = {s.name: s for s in _ALL}

# Causes whose lab column says "yes" or "simulated" all have a scenario; libvirt.* are
# covered by the libvirt test driver instead and are deliberately absent.
CAUSES_WITH_SCENARIO = frozenset(s.cause for s in _ALL if s.cause)


def by_cause(cause: str) -> list[Scenario]:
    return [s for s in _ALL if s.cause == cause]
