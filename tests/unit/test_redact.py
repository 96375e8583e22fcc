"""``--redact``: consistent, structure-preserving renaming; nothing original left; valid frames."""

from __future__ import annotations

import ipaddress
import json
import re
import struct

import pytest
from tests.unit.support import store_fixtures as F

from vnetdoctor import cli
from vnetdoctor.probes.frame_layout import internet_checksum
from vnetdoctor.probes.pcap import read_pcap
from vnetdoctor.redact import Redactor, find_leaks
from vnetdoctor.store import SessionStore

DOC_NETS = [
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "198.18.0.0/15")
]


def redact_texts(*texts: str) -> tuple[Redactor, list[str]]:
    red = Redactor()
    for t in texts:
        red.scan_text(t)
    return red, [red.text(t) for t in texts]


# -- text ---------------------------------------------------------------------------------------


def test_same_address_same_pseudonym_and_subnets_survive():
    _, (a, b) = redact_texts(
        "host 198.18.0.1/24 guest 198.18.0.11 gw 198.18.0.254 other 10.20.30.40 mac 52:54:00:AB:CD:EF",
        "ping 198.18.0.11 from 198.18.0.1; 10.20.30.41 on 10.20.30.0/24; lladdr 52-54-00-ab-cd-ef",
    )
    m = re.search(r"host (\S+)/24 guest (\S+) gw (\S+) other (\S+) mac (\S+)", a)
    host, guest, gw, other, mac = m.groups()
    assert f"ping {guest} from {host};" in b
    # One /24 stays one /24 with the host octet kept; another /24 stays elsewhere.
    assert host.endswith(".1") and guest.endswith(".11") and gw.endswith(".254")
    assert host.rsplit(".", 1)[0] == guest.rsplit(".", 1)[0] == gw.rsplit(".", 1)[0]
    assert other.rsplit(".", 1)[0] != host.rsplit(".", 1)[0] and other.endswith(".40")
    assert re.search(r"\d+\.\d+\.\d+\.41 on \d+\.\d+\.\d+\.0/24", b)
    for addr in (host, guest, gw, other):
        assert any(ipaddress.ip_address(addr) in n for n in DOC_NETS)
    # MACs: locally administered pseudonyms, case and separator kept, same in both spellings.
    assert mac == "02:00:00:00:00:01".upper()
    assert "lladdr 02-00-00-00-00-01" in b
    assert "198.18" not in a + b and "10.20" not in a + b and "52:54" not in a.lower()


def test_addresses_that_identify_nobody_are_kept():
    text = (
        "0.0.0.0/0 via 127.0.0.1 mask 255.255.255.0 bcast 255.255.255.255 mcast 224.0.0.251 "
        "ff:ff:ff:ff:ff:ff 00:00:00:00:00:00 01:00:5e:00:00:fb 33:33:00:00:00:01 :: ::1 ff02::1 fe80::1"
    )
    red, (out,) = redact_texts(text)
    assert out == text
    assert red.counts() == {"ipv4": 0, "ipv6": 0, "mac": 0}


def test_pseudonyms_never_coincide_with_an_original():
    # The originals already use the documentation ranges the pseudonyms come from.
    red, (out,) = redact_texts(
        "a 192.0.2.5 b 198.51.100.9 c 203.0.113.7 d 198.18.0.3 e 02:00:00:00:00:01 f 02:00:00:00:00:02"
    )
    originals = {
        "192.0.2.5",
        "198.51.100.9",
        "203.0.113.7",
        "198.18.0.3",
        "02:00:00:00:00:01",
        "02:00:00:00:00:02",
    }
    found = re.findall(r"[a-f] (\S+)", out)
    assert len(set(found)) == 6
    assert not originals & set(found)
    assert red.leaks_in_text(out) == []


def test_ipv6_prefixes_eui64_solicited_node_and_mapped():
    red, (out,) = redact_texts(
        f"mac {F.GUEST_MAC} ll {F.GUEST_LL6}%eth0 gua {F.GUEST_GUA6}/64 gua2 2001:db8:77:1:a1b2:c3d4:e5f6:1789 "
        "other [2001:db8:99::5]:22 mapped ::ffff:198.18.0.11 v4 198.18.0.11 sn ff02::1:ffab:cdef"
    )
    got = dict(re.findall(r"(\w+) (\S+)", out))
    assert got["mac"] == "02:00:00:00:00:01"
    assert got["ll"] == "fe80::ff:fe00:1%eth0"  # the EUI-64 of the MAC's pseudonym
    gua = ipaddress.IPv6Address(got["gua"].split("/")[0])
    gua2 = ipaddress.IPv6Address(got["gua2"])
    assert (
        gua in ipaddress.ip_network("2001:db8::/32") and int(gua) & 0xFFFF == 0x11
    )  # small id kept
    assert int(gua) >> 64 == int(gua2) >> 64  # one /64 stays one /64
    assert "a1b2" not in out and ":77:" not in out
    other = got["other"]
    assert other.startswith("[2001:db8:") and other.endswith("]:22") and ":99:" not in other
    assert got["mapped"] == "::ffff:" + got["v4"]
    # Solicited-node multicast follows the unicast it comes from (here the EUI-64 link-local).
    assert got["sn"] == "ff02::1:ff00:1"
    assert red.leaks_in_text(out) == []


def test_hex_spellings_of_known_addresses():
    route = (
        "Iface\tDestination\tGateway\nbr0\t0000000A\t0B0012C6\n"  # /proc/net/route: little-endian
    )
    if_inet6 = "fe80000000000000505400fffeabcdef 02 40 20 80 eth0"
    red, (a, b, c) = redact_texts(
        f"guest {F.GUEST_IP} mac {F.GUEST_MAC} ll {F.GUEST_LL6}",
        route,
        f"enx525400abcdef up; {if_inet6}",
    )
    new_ip = ipaddress.IPv4Address(re.search(r"guest (\S+)", a).group(1))
    assert new_ip.packed[::-1].hex().upper() in b and "0B0012C6" not in b
    assert "0000000A" in b  # not an address anyone recorded (10.0.0.0 network, unknown here)
    assert c.startswith("enx020000000001 up;") and "505400fffeabcdef" not in c
    assert red.leaks_in_text(a + b + c) == []


def test_leak_check_sees_what_was_not_renamed():
    red = Redactor()
    red.scan_text(f"{F.GUEST_IP} {F.GUEST_MAC} {F.GUEST_GUA6}")
    assert red.leaks_in_text(f"x {F.GUEST_IP} y") == [F.GUEST_IP]
    assert red.leaks_in_text(F.GUEST_MAC.upper().replace(":", "-")) != []
    assert red.leaks_in_text(ipaddress.IPv6Address(F.GUEST_GUA6).exploded) != []
    assert red.leaks_in_text("525400abcdef") != []
    assert red.leaks_in_text("nothing here 192.0.2.200") == []


# -- frames -------------------------------------------------------------------------------------


def _residue(frame: bytes, start: int, end: int, pseudo: bytes = b"") -> int:
    """The one's-complement sum over a checksummed region, checksum field included."""
    return internet_checksum(pseudo + frame[start:end])


def _udp_frame(payload: bytes = b"q" * 100, bad: bool = False) -> bytes:
    seg = F.udp(F.HOST_IP, F.GUEST_IP, 40000, 53, payload)
    if bad:  # what an offloaded frame captured on the sender looks like: a partial sum
        seg = seg[:6] + b"\x12\x34" + seg[8:]
    return F.ether(F.GUEST_MAC, F.HOST_MAC, 0x0800, F.ipv4(F.HOST_IP, F.GUEST_IP, 17, seg))


def test_truncated_and_offloaded_frames_keep_their_checksum_relation():
    full = _udp_frame()
    red = Redactor()
    red.scan_text(f"{F.HOST_IP} {F.GUEST_IP} {F.HOST_MAC} {F.GUEST_MAC}")
    r_full = red.frame(full, 1)
    r_cut = red.frame(full[: 14 + 20 + 8 + 10], 1)  # snap length cut the payload
    assert r_cut == r_full[: len(r_cut)]  # same checksums without the bytes that were cut
    pseudo_new = r_full[26:34] + struct.pack("!BBH", 0, 17, 108)
    assert _residue(r_full, 34, len(r_full), pseudo_new) == 0  # valid: sums to 0xffff
    bad = _udp_frame(bad=True)
    r_bad = red.frame(bad, 1)
    pseudo_old = bad[26:34] + struct.pack("!BBH", 0, 17, 108)
    assert (
        _residue(bad, 34, len(bad), pseudo_old) == _residue(r_bad, 34, len(r_bad), pseudo_new) != 0
    )


def _redacted_frames(red: Redactor) -> list[bytes]:
    return [red.frame(bytes.fromhex(p.data_hex), 1) for p in F.frames()]


def test_frames_renamed_everywhere_with_valid_checksums():
    scapy = pytest.importorskip("scapy.all")
    red = Redactor()
    for p in F.frames():
        red.scan_frame(bytes.fromhex(p.data_hex), 1)
    new = _redacted_frames(red)
    for raw in new:
        assert red.leaks_in_bytes(raw) == []
    arp_req, arp_rep, ping, frag, ns = (scapy.Ether(b) for b in new)
    # ARP: both MACs and both IPs renamed, consistent with the Ethernet header.
    assert arp_rep[scapy.ARP].hwsrc == arp_rep[scapy.Ether].src == "02:00:00:00:00:02"
    assert arp_req[scapy.ARP].pdst == arp_rep[scapy.ARP].psrc == ping[scapy.IP].dst
    assert (
        arp_req[scapy.Ether].dst == "ff:ff:ff:ff:ff:ff"
        and arp_req[scapy.ARP].hwdst == "00:00:00:00:00:00"
    )

    def recomputed(pkt, layer, field="chksum"):
        clone = pkt.copy()
        setattr(clone[layer], field, None)
        return getattr(scapy.Ether(bytes(clone))[layer], field)

    assert ping[scapy.IP].chksum == recomputed(ping, scapy.IP)
    assert ping[scapy.ICMP].chksum == recomputed(ping, scapy.ICMP)
    assert frag[scapy.IP].chksum == recomputed(frag, scapy.IP)
    assert frag[scapy.ICMP].chksum == recomputed(frag, scapy.ICMP)  # covers the quoted packet
    assert frag[scapy.IPerror].chksum == recomputed(frag, scapy.IPerror)
    quoted = frag[scapy.IPerror]
    assert quoted.src == ping[scapy.IP].src  # the quoted sender is the same host, renamed
    # The quoted UDP checksum is right for the whole original datagram (40 bytes of payload).
    pseudo = (
        scapy.inet_aton(quoted.src) + scapy.inet_aton(quoted.dst) + struct.pack("!BBH", 0, 17, 48)
    )
    udp_hdr = bytes(frag[scapy.UDPerror])[:8]
    assert internet_checksum(pseudo + udp_hdr + b"x" * 40) == 0
    # IPv6 NS: addresses, target, the link-layer option and solicited-node multicast, all renamed.
    assert ns[scapy.IPv6].src == "fe80::ff:fe00:2"  # EUI-64 of the guest MAC's pseudonym
    assert ns[scapy.ICMPv6ND_NS].tgt.startswith("2001:db8:0:")
    assert ns[scapy.ICMPv6NDOptSrcLLAddr].lladdr == ns[scapy.Ether].src == "02:00:00:00:00:02"
    low24 = int(ipaddress.IPv6Address(ns[scapy.ICMPv6ND_NS].tgt)) & 0xFFFFFF
    assert int(ipaddress.IPv6Address(ns[scapy.IPv6].dst)) & 0xFFFFFF == low24
    assert ns[scapy.Ether].dst == "33:33:" + ":".join(
        f"{b:02x}" for b in ipaddress.IPv6Address(ns[scapy.IPv6].dst).packed[-4:]
    )
    assert ns[scapy.ICMPv6ND_NS].cksum == recomputed(ns, scapy.ICMPv6ND_NS, "cksum")


def test_vlan_cooked_bpdu_and_dhcp_frames():
    scapy = pytest.importorskip("scapy.all")
    red = Redactor()
    # 802.1Q-tagged ping
    ping = bytes.fromhex(F.frames()[2].data_hex)
    tagged = ping[:12] + b"\x81\x00\x00\x64" + ping[12:]
    # Linux cooked capture (linktype 113) of a UDP datagram
    seg = F.udp(F.HOST_IP, F.GUEST_IP, 5353, 5353, b"hello")
    sll = struct.pack("!HHH", 4, 1, 6) + F.mac(F.HOST_MAC) + b"\0\0" + struct.pack("!H", 0x0800)
    cooked = sll + F.ipv4(F.HOST_IP, F.GUEST_IP, 17, seg)
    # STP BPDU from the bridge: root and bridge id carry its MAC
    bpdu = (
        b"\x00\x00\x00\x00\x00"
        + b"\x80\x00"
        + F.mac(F.BR_MAC)
        + b"\0\0\0\0"
        + b"\x80\x00"
        + F.mac(F.BR_MAC)
    )
    bpdu += b"\x80\x01" + b"\x00\x00\x14\x00\x02\x00\x0f\x00"
    llc = b"\x42\x42\x03" + bpdu
    stp = F.mac("01:80:c2:00:00:00") + F.mac(F.BR_MAC) + struct.pack("!H", len(llc)) + llc
    # DHCP offer: yiaddr and chaddr inside the payload
    bootp = (
        struct.pack("!BBBBIHH", 2, 1, 6, 0, 0x1234, 0, 0)
        + b"\0" * 4
        + F.ip4(F.GUEST_IP)
        + F.ip4(F.HOST_IP)
        + b"\0" * 4
    )
    bootp += F.mac(F.GUEST_MAC) + b"\0" * 10 + b"\0" * 192 + b"\x63\x82\x53\x63\xff"
    dhcp = F.ether(
        F.GUEST_MAC,
        F.HOST_MAC,
        0x0800,
        F.ipv4(F.HOST_IP, F.GUEST_IP, 17, F.udp(F.HOST_IP, F.GUEST_IP, 67, 68, bootp)),
    )
    frames = [(tagged, 1), (cooked, 113), (stp, 1), (dhcp, 1)]
    for data, lt in frames:
        red.scan_frame(data, lt)
    assert red.counts()["mac"] == 3 and red.counts()["ipv4"] == 2
    out = [red.frame(d, lt) for d, lt in frames]
    for data in out:
        assert red.leaks_in_bytes(data) == []
    t = scapy.Ether(out[0])
    assert t[scapy.Dot1Q].vlan == 100
    for layer in (scapy.IP, scapy.ICMP):
        clone = t.copy()
        clone[layer].chksum = None
        assert t[layer].chksum == scapy.Ether(bytes(clone))[layer].chksum
    c = scapy.CookedLinux(out[1])
    clone = c.copy()
    clone[scapy.UDP].chksum = None
    assert c[scapy.UDP].chksum == scapy.CookedLinux(bytes(clone))[scapy.UDP].chksum
    assert out[2][:6] == F.mac("01:80:c2:00:00:00")  # the STP group address is kept
    d = scapy.Ether(out[3])
    assert d[scapy.BOOTP].chaddr[:6] == bytes.fromhex(d[scapy.Ether].dst.replace(":", ""))
    assert d[scapy.BOOTP].yiaddr == d[scapy.IP].dst


# -- whole exports -------------------------------------------------------------------------------


def _all_original_spellings() -> list[str]:
    """Every original address of the fixture session, in every spelling an export could use."""
    texts = [F.HOST_IP, F.GUEST_IP, F.OTHER_IP, "198.18.0.254", "198.18.0.0"]
    out = []
    for t in texts:
        out += [t, ipaddress.IPv4Address(t).packed.hex()]
    for m in (F.HOST_MAC, F.GUEST_MAC, F.BR_MAC):
        out += [m, m.replace(":", ""), m.replace(":", "-"), m.upper()]
    for a in (F.GUEST_LL6, F.GUEST_GUA6):
        ip = ipaddress.IPv6Address(a)
        out += [str(ip), ip.exploded, ip.packed.hex()]
    return out


@pytest.fixture
def recorded(tmp_path):
    path = tmp_path / "s.db"
    with SessionStore(path) as st:
        sid = F.record(st, fixed=False)
    return path, sid


def _export(capsys, *argv):
    code = cli.main(["export", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_redacted_exports_leave_no_original_address_and_agree(recorded, capsys, tmp_path):
    path, sid = recorded
    code, md, err = _export(capsys, sid, "--format", "md", "--redact", "--db", str(path))
    assert code == 0 and "renamed IPv4 addresses: 5, IPv6 addresses: 2, MAC addresses: 3," in err
    assert "namespace names: 2, interface names: 3; not renamed: DNS names" in err
    code, js, _ = _export(capsys, sid, "--format", "json", "--redact", "--db", str(path))
    assert code == 0
    pcap_file = tmp_path / "r.pcap"
    code, _, _ = _export(
        capsys, sid, "--format", "pcap", "--redact", "--db", str(path), "-o", str(pcap_file)
    )
    assert code == 0
    _, frames = read_pcap(pcap_file.read_bytes())
    pcap_hex = "".join(f.data.hex() for f in frames)
    for spelling in _all_original_spellings():
        assert spelling not in md, spelling
        assert spelling.lower() not in js.lower(), spelling
    for spelling in _all_original_spellings():
        if re.fullmatch(r"[0-9a-f]+", spelling) and len(spelling) >= 8:
            assert spelling not in pcap_hex, spelling
    doc = json.loads(js)
    renamed = doc["record"]["redaction"]["renamed"]
    assert {k: renamed[k] for k in ("ipv4", "ipv6", "mac", "netns", "iface")} == {
        "ipv4": 5, "ipv6": 2, "mac": 3, "netns": 2, "iface": 3
    }
    assert "DNS names" in doc["record"]["redaction"]["not_renamed"]
    # One mapping for the three formats: the report's target is the record's and the pcap's.
    target = re.search(r"\| Target \| `([^`]+)` \|", md).group(1)
    assert doc["target"] == target and target.startswith("192.0.2.")
    ping = frames[2].data
    assert ping[30:34] == ipaddress.IPv4Address(target).packed
    assert doc["steps"][2]["observations"][0]["rows"][2]["data_hex"] == ping.hex()
    # Names are renamed too, by kind, the same way in the report and the record.
    for name in ("vndt-guest", "vndt-host", "vnet0", "br0", "eth0"):
        assert not re.search(rf"(?<![\w-]){name}(?![\w-])", md + js), name
    assert doc["host"] == "netns:ns-a" and doc["guest"] == "netns:ns-b"
    assert "netns:ns-b" in md and "Not redacted: DNS names" in md
    assert doc["record"]["extra"]["path"] == [{"side": "host", "iface": "vnet-a"}, {"side": "host", "iface": "br-a"}]
    assert "ip netns exec ns-b nft delete rule inet filter input handle 7" in md
    assert doc["causes"][0]["fixes"][0]["command"].startswith("ip netns exec ns-b nft delete")
    assert re.search(r"eth-a has 192\.0\.2\.11/24", md)
    assert doc["steps"][2]["observations"][0]["rows"][0]["iface"] == "vnet-a"
    # The rule text still reads as the same rule, with the renamed source.
    host = re.search(r"ICMP echo from (\S+) \(nft handle 7\)", md).group(1)
    assert f"ip saddr {host} icmp type echo-request drop" in md


def test_export_refuses_rather_than_leak(recorded, capsys, monkeypatch):
    path, sid = recorded
    monkeypatch.setattr(Redactor, "json", lambda self, obj: obj)  # a broken redactor
    code, out, err = _export(capsys, sid, "--format", "json", "--redact", "--db", str(path))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "refusing to export" in err


# -- names ---------------------------------------------------------------------------------------


def test_names_renamed_by_kind_consistently_interfaces_keep_their_prefix():
    red = Redactor()
    red.add_name("host", "kvm-node7.example.org")
    red.scan_json(
        {
            "host": "netns:vnd-host",
            "guest": "libvirt:web01@qemu+ssh://admin@kvm-node7.example.org/system",
            "rows": [
                {"_type": "LinkRow", "name": "vnet0", "master": "br0"},
                {"_type": "LinkRow", "name": "vnet1", "master": "virbr0"},
                {"_type": "NetworkRow", "name": "prodnet", "bridge": "virbr0"},
                {"_type": "AddrRow", "ifname": "enp3s0"},
                {"_type": "LinkRow", "name": "lo"},
            ],
        }
    )
    out = red.text(
        "netns:vnd-host vnet0@if2 master br0; vnet1 on virbr0 (network prodnet) via enp3s0; "
        "virsh -c qemu+ssh://admin@kvm-node7.example.org/system domif-setlink web01 vnet0 up; "
        "KVM-NODE7 said hello; lo stays; net.ipv4.conf.vnet0.rp_filter=1; vnet0."
    )
    assert out == (
        "netns:ns-a vnet-a@if2 master br-a; vnet-b on virbr-a (network net-a) via enp-a; "
        "virsh -c qemu+ssh://admin@host-a/system domif-setlink vm-a vnet-a up; "
        "host-a said hello; lo stays; net.ipv4.conf.vnet-a.rp_filter=1; vnet-a."
    )
    # Fix argv lists (and any other list of strings) are renamed element by element, the same way.
    argv = ["ip", "netns", "exec", "vnd-host", "ip", "link", "set", "vnet0", "up"]
    assert red.json({"argv": argv})["argv"] == [
        "ip", "netns", "exec", "ns-a", "ip", "link", "set", "vnet-a", "up"
    ]
    assert red.leaks_in_text(out) == []
    assert red.name_counts() == {"host": 2, "domain": 1, "network": 1, "netns": 1, "iface": 5}


def test_names_only_whole_tokens_and_ip_netns_exec_learnt_from_text():
    red = Redactor()
    red.scan_text("fix: ip netns exec blue-guest ip link set eth0 up")
    out = red.text("ip netns exec blue-guest true; blue-guest2 and xblue-guest are other names")
    assert out == "ip netns exec ns-a true; blue-guest2 and xblue-guest are other names"


def test_pseudonym_never_an_original_name():
    red = Redactor()
    red.add_name("netns", "ns-a")  # someone already called a namespace like our pseudonyms
    red.add_name("netns", "blue")
    assert red.text("ns-a blue") == "ns-b ns-c"


# -- the leak check, spelling by spelling ---------------------------------------------------------

V4 = int(ipaddress.IPv4Address("198.18.0.11"))
MAC = bytes.fromhex("525400abcdef")
V6 = int(ipaddress.IPv6Address("2001:db8:77:1::11"))


@pytest.mark.parametrize(
    "spelling",
    [
        "198.18.0.11",
        "198.018.000.011",  # zero-padded
        "host198.18.0.11",  # embedded in a word
        "ip=198.18.0.11:22",
        "3323068427",  # the integer
        "c612000b",  # hex, network order
        "0xC612000B",
        "0b0012c6",  # hex, little-endian (/proc/net/route)
        "１９８．１８．０．１１",  # full-width digits and dots
        "198。18。0。11",  # ideographic full stops
    ],
)
def test_find_leaks_ipv4_spellings(spelling):
    assert find_leaks(f"x {spelling} y", ipv4=[V4]) != [], spelling


@pytest.mark.parametrize(
    "spelling",
    [
        "52:54:00:ab:cd:ef",
        "52-54-00-AB-CD-EF",
        "525400abcdef",
        "5254.00ab.cdef",  # Cisco
        "5254.00AB.CDEF",
        "enx525400abcdef",
        "52:54:0:ab:cd:ef",  # single-digit byte
        "５２：５４：００：ａｂ：ｃｄ：ｅｆ",
    ],
)
def test_find_leaks_mac_spellings(spelling):
    assert find_leaks(f"x {spelling} y", macs=[MAC]) != [], spelling


@pytest.mark.parametrize(
    "spelling",
    ["2001:db8:77:1::11", "2001:0db8:0077:0001:0000:0000:0000:0011", "20010db8007700010000000000000011"],
)
def test_find_leaks_ipv6_spellings(spelling):
    assert find_leaks(f"[{spelling}]", ipv6=[V6]) != [], spelling


@pytest.mark.parametrize(
    "text",
    ["198.18.0.110", "1198.18.0.11", "198.18.0.1", "33230684270", "5254.00ab.cdee", "192.0.2.11"],
)
def test_find_leaks_no_false_alarm_on_neighbours(text):
    assert find_leaks(text, ipv4=[V4], macs=[MAC]) == []


def test_find_leaks_names_whole_tokens_any_case():
    names = ["vnd-guest", "kvm-node7"]
    assert find_leaks("netns:vnd-guest", names=names) == ["vnd-guest"]
    assert find_leaks("KVM-NODE7.example.org", names=names) == ["KVM-NODE7"]
    assert find_leaks("ｖｎｄ－ｇｕｅｓｔ", names=names) == ["vnd-guest"]  # NFKC
    assert find_leaks("vnd-guest2 xvnd-guest", names=names) == []
    assert find_leaks("the VM", names=["vm"]) == []  # short names: as spelled
    assert find_leaks("on vm today", names=["vm"]) == ["vm"]


def test_odd_spellings_of_known_addresses_are_renamed_not_just_refused():
    red = Redactor()
    red.scan_text(f"{F.GUEST_IP} {F.GUEST_MAC}")
    out = red.text(
        "padded 198.018.000.011 word host198.18.0.11 int 3323068427 "
        "cisco 5254.00ab.cdef wide １９８．１８．０．１１"
    )
    new = ipaddress.IPv4Address(red.map_v4(F.GUEST_IP))
    new_mac = red.map_mac(F.GUEST_MAC).replace(":", "")
    assert out == (
        f"padded {new} word host{new} int {int(new)} "
        f"cisco {new_mac[:4]}.{new_mac[4:8]}.{new_mac[8:]} wide {new}"
    )
    assert red.leaks_in_text(out) == []


def test_export_renames_this_machines_host_name(recorded, capsys, monkeypatch):
    path, sid = recorded
    with SessionStore(path) as st:
        st.record_event(sid, "note", {"text": "seen from KVM-Node7.example.org (kvm-node7)"})
    monkeypatch.setattr(
        "vnetdoctor.exports.machine_hostnames", lambda: ["kvm-node7.example.org"]
    )
    code, js, err = _export(capsys, sid, "--format", "json", "--redact", "--db", str(path))
    assert code == 0, err
    assert "kvm-node7" not in js.lower()
    assert "seen from host-a (host-a)" in js
    code, md, err = _export(capsys, sid, "--format", "md", "--redact", "--db", str(path))
    assert code == 0 and "kvm-node7" not in md.lower()


def test_hostile_names_are_renamed_and_learnt_from_argv_lists():
    """A guest-chosen NIC name full of shell characters is still a name, renamed as a token.

    The fix's display string stays ``shlex.join`` of its (renamed) argv, so the redacted
    record loads back as the same kind of fix (the Markdown report is rendered from it).
    """
    from vnetdoctor.knowledge.model import Fix

    fix = Fix.of(["ip", "link", "set", "x;date>PWN", "up"], ["ip", "link", "set", "x;date>PWN", "down"],
                 risk="low", where="netns:vnd-guest")
    doc = {"rows": [{"_type": "LinkRow", "name": "x;date>PWN", "master": ""}], "fix": fix.to_dict(),
           "note": "ip netns exec vnd-guest ip link set 'x;date>PWN' up"}
    red = Redactor()
    red.scan_json(doc)
    out = red.json(doc)
    assert out["fix"]["argv"] == ["ip", "link", "set", "x-a", "up"]
    assert out["fix"]["command"] == "ip link set x-a up"  # rebuilt: the pseudonym needs no quotes
    assert out["fix"]["undo"] == "ip link set x-a down" and out["fix"]["where"] == "netns:ns-a"
    assert out["note"] == "ip netns exec ns-a ip link set 'x-a' up"
    assert Fix.from_dict(out["fix"]).argv == ("ip", "link", "set", "x-a", "up")
    assert red.leaks_in_text(json.dumps(out)) == []


def test_find_leaks_with_kinds_folds_only_host_names():
    """A session's record of kinds: a libvirt domain 'Web01' is not the word 'web01'; a host is."""
    names = {"Web01": "domain", "kvm-node7": "host"}
    assert find_leaks("domain web01 is shut off", names=names) == []
    assert find_leaks("domain Web01 is shut off", names=names) == ["Web01"]
    assert find_leaks("on KVM-NODE7", names=names) == ["KVM-NODE7"]


def test_help_text_placeholders_are_not_names():
    """'use --guest libvirt:DOMAIN' in a skip note names no domain: it must not block the export."""
    red = Redactor()
    red.scan_json({"note": "no libvirt guest in this request (use --guest libvirt:DOMAIN)"})
    assert "DOMAIN" not in red.names.seen
    text = "The libvirt domain is running (use --guest libvirt:DOMAIN)"
    assert red.leaks_in_text(red.text(text)) == []


def test_what_redaction_renamed_is_said_in_the_commands_language(recorded, capsys):
    path, sid = recorded
    code, _, err = _export(capsys, sid, "--format", "md", "--redact", "--db", str(path), "--lang", "zh")
    assert code == 0 and err.startswith("vnetdoctor export：已改名 5 个 IPv4、2 个 IPv6 地址和 3 个 MAC 地址")
    assert "未改名：DNS 名称" in err and "renamed" not in err
