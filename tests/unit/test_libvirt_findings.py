"""What a real libvirtd showed (issue 11), fixed: each finding on the test driver and fake agent replies.

The guest's ``ping`` and ``nslookup`` outputs below are what iputils, busybox and
Windows print (copied from their documented formats); the agent itself is the
FakeAgent of ``libvirt_fakes`` answering ``guest-exec`` with them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from tests.unit.support.libvirt_fakes import LAB_URI, FakeAgent, lab
from vnetdoctor.knowledge.discovery import host_address
from vnetdoctor.knowledge.path import Hop, PathPoint
from vnetdoctor.knowledge.trace import Leg
from vnetdoctor.probes import guest_agent, libvirt_conn
from vnetdoctor.probes.base import Observation, run_probe
from vnetdoctor.probes.dns import read_nslookup
from vnetdoctor.probes.guest_ping import parse_ping, ping_argv
from vnetdoctor.probes.libvirt_check import check_domain
from vnetdoctor.probes.rows_active import EchoRow
from vnetdoctor.probes.vantage import LOCAL, parse_vantage
from vnetdoctor.probes.vocabulary import EchoFailure

pytest.importorskip("libvirt")


@pytest.fixture(autouse=True)
def fresh():
    """A new test-driver connection (its state is per connection) and libvirt's own agent after."""
    libvirt_conn.forget(LAB_URI)
    try:
        yield
    finally:
        guest_agent.set_agent_transport(None)
        libvirt_conn.forget(LAB_URI)


IPUTILS_OK = """PING 198.51.100.1 (198.51.100.1) 56(84) bytes of data.
64 bytes from 198.51.100.1: icmp_seq=1 ttl=64 time=0.412 ms
64 bytes from 198.51.100.1: icmp_seq=2 ttl=64 time=0.380 ms
64 bytes from 198.51.100.1: icmp_seq=3 ttl=64 time=0.371 ms

--- 198.51.100.1 ping statistics ---
3 packets transmitted, 3 received, 0% packet loss, time 2003ms
"""
BUSYBOX_HALF = """PING 198.51.100.1 (198.51.100.1): 56 data bytes
64 bytes from 198.51.100.1: seq=0 ttl=64 time=1.204 ms
64 bytes from 198.51.100.1: seq=2 ttl=64 time=0.990 ms
"""
IPUTILS_UNREACH = """PING 198.51.100.1 (198.51.100.1) 56(84) bytes of data.
From 198.51.100.20 icmp_seq=1 Destination Host Unreachable
From 198.51.100.20 icmp_seq=2 Destination Host Unreachable
"""
IPUTILS_EPERM = "PING 198.51.100.1 (198.51.100.1) 56(84) bytes of data.\nping: sendmsg: Operation not permitted\n"
WINDOWS = """Pinging 198.51.100.1 with 32 bytes of data:
Reply from 198.51.100.1: bytes=32 time<1ms TTL=64
Request timed out.
Reply from 198.51.100.1: bytes=32 time=2ms TTL=64
"""


def test_ping_output_becomes_echo_rows():
    rows = parse_ping(IPUTILS_OK, "198.51.100.1", 3, 56, 77)
    assert [(r.seq, r.rtt_ms, r.ident) for r in rows] == [(1, 0.412, 77), (2, 0.38, 77), (3, 0.371, 77)]
    rows = parse_ping(BUSYBOX_HALF, "198.51.100.1", 3, 56, 0)
    assert [r.rtt_ms for r in rows] == [1.204, None, 0.99]  # busybox counts from seq=0
    rows = parse_ping(IPUTILS_UNREACH, "198.51.100.1", 3, 56, 0)
    assert rows[0].error == "destination host unreachable from 198.51.100.20" and rows[2].error == ""
    assert [r.failure for r in rows] == [EchoFailure.UNREACHABLE] * 2 + [EchoFailure.NONE]
    rows = parse_ping(IPUTILS_EPERM, "198.51.100.1", 2, 56, 0)
    assert [r.error for r in rows] == ["Operation not permitted"] * 2
    assert [r.failure for r in rows] == [EchoFailure.NOT_SENT] * 2
    rows = parse_ping(WINDOWS, "198.51.100.1", 3, 32, 0, windows=True)
    assert [r.rtt_ms for r in rows] == [1.0, None, 2.0]  # "time<1ms": at most 1 ms


def test_icmp_echo_from_a_libvirt_guest_runs_its_ping_through_the_agent():
    argv = tuple(ping_argv("198.51.100.1", 3, 56, 1.0, 4242))
    agent = FakeAgent({argv: (0, IPUTILS_OK.replace("icmp_seq", "icmp_seq"), "")})
    guest_agent.set_agent_transport(agent)
    obs = run_probe("icmp.echo", parse_vantage(lab("web")), dst="198.51.100.1", count=3, ident=4242)
    assert obs.ok, obs.reason
    assert sum(r.rtt_ms is not None for r in obs.rows) == 3
    assert {r.ident for r in obs.rows} == {4242}  # iputils `-e`: the capture can follow them
    assert agent.executed()[-1] == argv


def test_busybox_ping_without_e_is_retried_and_its_identifier_is_unknown():
    with_e = tuple(ping_argv("198.51.100.1", 3, 56, 1.0, 4242))
    without = tuple(ping_argv("198.51.100.1", 3, 56, 1.0, 4242, with_ident=False))
    agent = FakeAgent({with_e: (1, "", "ping: invalid option -- 'e'\nBusyBox v1.35.0 usage"),
                       without: (0, BUSYBOX_HALF, "")})
    guest_agent.set_agent_transport(agent)
    obs = run_probe("icmp.echo", parse_vantage(lab("web")), dst="198.51.100.1", count=3, ident=4242)
    assert obs.ok and {r.ident for r in obs.rows} == {0}
    assert agent.executed() == [with_e, without]


def test_ping_in_a_guest_without_agent_is_skipped_with_the_reason():
    guest_agent.set_agent_transport(FakeAgent(unavailable="QEMU guest agent is not connected"))
    obs = run_probe("icmp.echo", parse_vantage(lab("web")), dst="198.51.100.1")
    assert obs.status == "skipped" and "no guest agent" in obs.reason


def _leg(uncaptured: frozenset[PathPoint], seen: dict[str, tuple[PathPoint, ...]]) -> Leg:
    guest = parse_vantage(lab("web"))
    hops = (Hop(LOCAL, "virbr0", "host", "bridge"), Hop(LOCAL, "vnet0", "host", "port"),
            Hop(guest, "eth0", "guest", "nic"))
    echo = Observation("icmp.echo", "local", rows=(EchoRow("198.51.100.20", 1, 5, 56, False, None),))
    return Leg("forward", LOCAL, "198.51.100.20", 5, echo, hops, seen, {}, uncaptured=uncaptured)


def test_no_evidence_about_a_guest_nic_nothing_captured():
    seen = {"1": (PathPoint("host", "virbr0"), PathPoint("host", "vnet0"))}
    assert _leg(frozenset(), seen).where() == "echo request seen on host vnet0, never on guest eth0"
    assert _leg(frozenset({PathPoint("guest", "eth0")}), seen).where() == (
        "echo request seen on host vnet0; not captured in the guest (guest eth0): no vantage there")
    everything = frozenset({PathPoint("host", "virbr0"), PathPoint("host", "vnet0"), PathPoint("guest", "eth0")})
    assert _leg(everything, {}).where() == "no capture point on the path could be opened"
    busybox = replace(_leg(frozenset(), {}), untracked=True)  # its ping chose its own ICMP id
    assert busybox.where() == "0/1 replies; the sender's own ping chose its ICMP id, so the capture cannot follow its packets"


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("Server:\t\t198.51.100.1\nAddress:\t198.51.100.1:53\n\n** server can't find .: REFUSED\n",
         ("answered", "REFUSED", "")),
        ("Server:\t\t198.51.100.1\nAddress:\t198.51.100.1:53\n\nNon-authoritative answer:\n"
         ".\tnameserver = ns.example.\n", ("answered", "NOERROR", "")),
        (";; connection timed out; no servers could be reached\n", ("timeout", "", "no answer")),
        ("** server can't find .: SERVFAIL\n", ("answered", "SERVFAIL", "")),
    ],
)
def test_nslookup_output_is_read_for_its_rcode(output, expected):
    assert read_nslookup(output) == expected


def test_dns_through_the_agent_reads_refused_whatever_the_exit_code():
    agent = FakeAgent({
        ("cat", "/etc/resolv.conf"): (0, "nameserver 198.51.100.1\n", ""),
        ("nslookup", "-type=ns", ".", "198.51.100.1"): (0, "** server can't find .: REFUSED\n", ""),
    })
    guest_agent.set_agent_transport(agent)
    obs = run_probe("dns.resolve", parse_vantage(lab("web")))
    assert obs.ok, obs.reason
    (row,) = obs.rows
    assert (row.resolver, row.state, row.rcode, row.rtt_ms) == ("198.51.100.1", "answered", "REFUSED", None)


def test_unreachable_libvirtd_is_not_bad_input_but_an_unknown_domain_is():
    # No daemon listens on this socket: the walk goes on, the platform step says why.
    assert check_domain(parse_vantage("libvirt:web@qemu:///system?socket=/nonexistent/vnlv-sock")) is None
    assert check_domain(parse_vantage(lab("nosuch"))) == f"no libvirt domain 'nosuch' on {LAB_URI}"


def test_from_guest_targets_the_hosts_address_on_the_guests_network():
    guest = parse_vantage(lab("web"))
    ip, line = host_address(run_probe, guest, LOCAL)
    assert (ip, line) == ("198.51.100.1", "host: 198.51.100.1 on virbr0 (libvirt network default)")


# --- the platform step on the test driver, with what it lacks served by fakes ----------------

from types import SimpleNamespace  # noqa: E402

from tests.unit.support.libvirt_fakes import installed_leases, lease  # noqa: E402
from vnetdoctor.knowledge.checks import load_checks  # noqa: E402
from vnetdoctor.knowledge.context import Shared, StepContext  # noqa: E402
from vnetdoctor.knowledge.model import FAIL, Fix, Request  # noqa: E402
from vnetdoctor.knowledge.observer import Observer  # noqa: E402
from vnetdoctor.probes.libvirt_dhcp import dnsmasq_processes  # noqa: E402
from vnetdoctor.probes.rows import AddrRow, FirewallRow  # noqa: E402
from vnetdoctor.probes.rows_libvirt import PathRow  # noqa: E402
from vnetdoctor.probes.rows_platform import PlatformSignRow  # noqa: E402

CHECKS = load_checks()
C = f"virsh -c {LAB_URI}"


class Overlay(Observer):
    """The real probes, except those given: what the test driver cannot show (host taps, /proc)."""

    def __init__(self, **canned: Observation) -> None:
        super().__init__(workers=2)
        self.canned = {k.replace("_", "."): v for k, v in canned.items()}

    def run(self, probe_id, vantage, params):
        if probe_id in self.canned:
            return self.canned[probe_id]
        return super().run(probe_id, vantage, params)


def platform(guest: str, observer: Observer, *, host=LOCAL, target=None, facts=None) -> StepContext:
    ctx = StepContext(Shared(Request(target=target, host=host, guest=parse_vantage(guest)), observer, "en"),
                      "platform.libvirt", "platform")
    ctx.facts.update(facts or {})
    CHECKS["platform.libvirt"](ctx)
    return ctx


def obs(probe: str, *rows, vantage: str = "local") -> Observation:
    return Observation(probe, vantage, rows=tuple(rows))


def tap(domain: str, mac: str, name: str, master: str = "") -> PathRow:
    return PathRow(domain=domain, mac=mac, tap=name, bridge="virbr0", network="default", tap_present=True,
                   tap_operstate="UP", tap_master=master, type="network")


@pytest.fixture
def leases():
    with installed_leases() as fake:
        yield fake


def test_network_inactive_fix_reattaches_each_running_guests_tap():
    libvirt_conn.connection(LAB_URI).networkLookupByName("default").destroy()
    seen = obs("libvirt.path", tap("web", "52:54:00:00:00:02", "vnet3"), tap("db", "52:54:00:00:00:03", "vnet4"),
               tap("other", "52:54:00:00:00:09", "vnet5", master="virbr0"))
    ctx = platform(lab("web"), Overlay(libvirt_path=seen), host=parse_vantage("netns:vnlv-host"))
    (f,) = ctx.findings
    assert f.cause == "libvirt.network_inactive"
    start, autostart = f.fixes
    # One fix, several commands: net-start, then (in the host's namespace) each running guest's tap
    # back on the new bridge (libvirt leaves them off); the undo goes back last step first.
    assert (start.argv, start.where) == (("virsh", "-c", LAB_URI, "net-start", "default"), "local")
    assert [(x.argv, x.undo_argv, x.where) for x in start.then] == [
        (("ip", "netns", "exec", "vnlv-host", "ip", "link", "set", "dev", tap_, "master", "virbr0"),
         ("ip", "netns", "exec", "vnlv-host", "ip", "link", "set", "dev", tap_, "nomaster"), "netns:vnlv-host")
        for tap_ in ("vnet3", "vnet4")
    ]
    assert start.command.splitlines() == [
        f"{C} net-start default",
        "ip netns exec vnlv-host ip link set dev vnet3 master virbr0",
        "ip netns exec vnlv-host ip link set dev vnet4 master virbr0",
    ]
    assert start.undo.splitlines() == [
        "ip netns exec vnlv-host ip link set dev vnet4 nomaster",
        "ip netns exec vnlv-host ip link set dev vnet3 nomaster",
        f"{C} net-destroy default",
    ]
    assert autostart.command == f"{C} net-autostart default"
    assert Fix.from_dict(start.to_dict()) == start  # recorded and read back, steps and all


def test_applying_a_fix_runs_its_steps_in_order_and_stops_at_the_first_failure(tmp_path):
    from vnetdoctor.knowledge.apply import apply_fix

    log = tmp_path / "log"
    step = Fix.of(["sh", "-c", f"echo two >> {log}"], risk="low", where="local")
    bad = Fix.of(["false"], risk="low", where="local")
    never = Fix.of(["sh", "-c", f"echo never >> {log}"], risk="low", where="local")
    fix = Fix.sequence([Fix.of(["sh", "-c", f"echo one >> {log}"], risk="low", where="local"), step, bad, never])
    assert apply_fix(fix, timeout=5).returncode == 1
    assert log.read_text().split() == ["one", "two"]
    with pytest.raises(ValueError):
        Fix("x", "", "low", "local", argv=("x",), runnable=True, then=(Fix.guidance(["dev"], risk="low"),))


def test_dead_dnsmasq_restarts_the_network_and_the_guests_own_client_asks_again(leases):
    agent = FakeAgent()
    agent.programs[("which", "dhclient")] = (1, "", "")
    agent.programs[("which", "udhcpc")] = (0, "/sbin/udhcpc\n", "")
    agent.interfaces = [{"name": "eth0", "hardware-address": "52:54:00:00:00:02", "ip-addresses": []}]
    guest_agent.set_agent_transport(agent)
    other = obs("libvirt.dnsmasq")  # dnsmasq runs for no network
    ctx = platform(lab("web"), Overlay(libvirt_dnsmasq=other, libvirt_path=obs(
        "libvirt.path", tap("web", "52:54:00:00:00:02", "vnet3"))))
    (f,) = ctx.findings
    assert f.cause == "libvirt.dhcp_no_lease"
    assert "network default is active but no dnsmasq process serves it" in [e.text for e in f.evidence]
    restart, renew = f.fixes
    # One fix restarts the network (a new dnsmasq) and puts the running guest's tap back.
    assert (restart.command.splitlines(), restart.where) == (
        [f"{C} net-destroy default", f"{C} net-start default", "ip link set dev vnet3 master virbr0"], "local")
    assert restart.undo == ""  # nothing brings a dead dnsmasq back
    assert (renew.command, renew.undo, renew.where) == ("udhcpc -i eth0 -n -q", "ip -4 addr flush dev eth0",
                                                        lab("web"))  # busybox: no dhclient there


def test_a_reservation_only_when_the_range_is_full(leases):
    from vnetdoctor.knowledge.checks_platform_dhcp import _reservable

    guest = parse_vantage(lab("web"))
    net = SimpleNamespace(name="default", address="198.51.100.1", prefixlen=24,
                          dhcp_start="198.51.100.100", dhcp_end="198.51.100.199")

    def reservable():
        ctx = StepContext(Shared(Request(None, LOCAL, guest), Observer(), "en"), "platform.libvirt", "platform")
        return _reservable(ctx, guest, net)

    leases.leases_by_network["default"] = [lease(f"52:54:00:00:01:{i:02x}", f"198.51.100.{100 + i}")
                                           for i in range(100)]
    # Inside the subnet, outside the range, not the host's own address, leased to nobody.
    assert reservable() == "198.51.100.2"
    leases.leases_by_network["default"].pop()
    assert reservable() is None  # a free address remains: reserving is not the fix


def test_a_stale_lease_with_no_ipv4_in_the_guest_is_not_a_pass(leases):
    leases.leases_by_network["default"] = [lease("52:54:00:00:00:02", "198.51.100.20")]
    agent = FakeAgent()
    agent.interfaces = [{"name": "eth0", "hardware-address": "52:54:00:00:00:02", "ip-addresses": []}]
    guest_agent.set_agent_transport(agent)
    ctx = platform(lab("web"), Overlay())
    assert ctx.status() == FAIL and ctx.findings == []
    assert "lease 198.51.100.20 for 52:54:00:00:00:02 is stale: the guest shows no IPv4 address on eth0" \
        in ctx.summary_note()


def _fw(chain: str, packets: int, verdict: str = "drop", rule: str = "ip protocol icmp counter drop") -> FirewallRow:
    return FirewallRow(backend="nftables", family="bridge", table="filter", chain=chain, rule=rule,
                       verdict=verdict, packets=packets, bytes=packets * 98, manager="libvirt")


def _failed_trace(*errors: tuple[str, EchoFailure]) -> SimpleNamespace:
    rows = tuple(EchoRow("198.51.100.20", i + 1, 7, 56, False, None, error=e, failure=f)
                 for i, (e, f) in enumerate(errors or (("", EchoFailure.NONE),)))
    return SimpleNamespace(reachable=False, forward=SimpleNamespace(echo=Observation("icmp.echo", "local", rows=rows)))


def test_an_nwfilter_drop_is_libvirts_cause_fixed_through_virsh():
    before = obs("firewall.rules", _fw("I-testnet0-ipv4", 10), _fw("libvirt-O-testnet0", 0, "jump O-testnet0"))
    after = obs("firewall.rules", _fw("I-testnet0-ipv4", 13), _fw("libvirt-O-testnet0", 3, "jump O-testnet0"))
    facts = {"trace": _failed_trace(), "before": {"host": (before, None)}, "after": {"host": (after, None)}}
    ctx = platform(lab("db"), Overlay(), facts=facts)
    (f,) = [f for f in ctx.findings if f.cause == "libvirt.nwfilter_blocks"]
    assert f.summary == "libvirt nwfilter clean-traffic on testnet0 of domain db drops the traffic"
    assert [e.text for e in f.evidence] == [
        "db's interface testnet0 has <filterref filter='clean-traffic'/>",
        "libvirt's nwfilter rule nftables bridge I-testnet0-ipv4: ip protocol icmp counter drop counted +3 "
        "while the probes ran",
    ]
    (fix,) = f.fixes
    # Never a rule deleted in libvirt's generated chain: the filter binding, through libvirt.
    assert (fix.command, fix.undo, fix.where, fix.risk) == (f"{C} nwfilter-binding-delete testnet0", "", "local",
                                                            "medium")
    assert "next start applies its `<filterref>` again" in fix.note


def test_a_peer_outside_a_nat_network_is_told_nat_is_closed_by_design():
    peer = parse_vantage("netns:vnlv-peer")
    addrs = obs("addr.list", AddrRow("eth0", "inet", "203.0.113.5", 24, "global"), vantage=str(peer))
    facts = {"trace": _failed_trace(("port unreachable from 203.0.113.1", EchoFailure.UNREACHABLE))}
    ctx = platform(lab("web"), Overlay(addr_list=addrs), host=peer, target="198.51.100.20", facts=facts)
    (f,) = [f for f in ctx.findings if f.cause == "libvirt.nat_inbound"]
    assert f.summary == "198.51.100.20 is on libvirt NAT network default: closed to netns:vnlv-peer from outside by design"
    assert [e.text for e in f.evidence] == [
        "network default forwards by NAT: 198.51.100.20 in 198.51.100.0/24 is not reachable from beyond the host",
        "netns:vnlv-peer has no address in 198.51.100.0/24 (203.0.113.5): it is outside the NAT network",
        "the echo was rejected: port unreachable from 203.0.113.1 (libvirt's REJECT)",
    ]
    # The rule would go on the hypervisor, which is not the sender's namespace: guidance only,
    # its note with the real values (never a <placeholder>).
    assert [(x.runnable, x.missing) for x in f.fixes] == [(False, ("hypervisor",))]
    assert "into 198.51.100.0/24 on virbr0" in f.fixes[0].note and "<subnet>" not in f.fixes[0].note
    assert ctx.facts["nat_inbound"] is True  # network.address then names no subnet mismatch


def _nat_rejection_evidence(*errors: tuple[str, EchoFailure]) -> list[str]:
    """What the NAT finding says of the echo, for a peer outside the network whose pings got ``errors``."""
    peer = parse_vantage("netns:vnlv-peer")
    addrs = obs("addr.list", AddrRow("eth0", "inet", "203.0.113.5", 24, "global"), vantage=str(peer))
    ctx = platform(lab("web"), Overlay(addr_list=addrs), host=peer, target="198.51.100.20",
                   facts={"trace": _failed_trace(*errors)})
    (f,) = [f for f in ctx.findings if f.cause == "libvirt.nat_inbound"]
    return [e.text for e in f.evidence[2:]]


def test_the_nat_rejection_is_read_from_what_kind_of_error_came_back_not_from_its_words():
    """A REJECT that answers "prohibited" is a rejection too (the words have no "unreachable"),
    and the sender's own kernel refusing to send ("Network is unreachable") is none: the
    request never reached libvirt's rules. The rule once looked for "unreachable" in the words."""
    prohibited = "communication administratively prohibited from 203.0.113.1"
    assert _nat_rejection_evidence((prohibited, EchoFailure.UNREACHABLE)) == [
        f"the echo was rejected: {prohibited} (libvirt's REJECT)"]
    assert _nat_rejection_evidence(("Network is unreachable", EchoFailure.NOT_SENT)) == []
    assert _nat_rejection_evidence(("time exceeded from 203.0.113.1", EchoFailure.TIME_EXCEEDED)) == []


def test_nat_inbound_from_this_machine_offers_the_libvirt_accept_rule_to_run_here():
    addrs = obs("addr.list", AddrRow("eth0", "inet", "203.0.113.5", 24, "global"),
                AddrRow("lo", "inet", "127.0.0.1", 8, "host"))
    ctx = platform(lab("web"), Overlay(addr_list=addrs), target="198.51.100.20", facts={"trace": _failed_trace()})
    (f,) = [f for f in ctx.findings if f.cause == "libvirt.nat_inbound"]
    assert "(203.0.113.5)" in f.evidence[1].text  # loopback is no address on any network
    (fix,) = f.fixes
    assert (fix.command, fix.undo, fix.where) == (
        "iptables -I LIBVIRT_FWI -d 198.51.100.0/24 -o virbr0 -j ACCEPT",
        "iptables -D LIBVIRT_FWI -d 198.51.100.0/24 -o virbr0 -j ACCEPT", "local")


def test_a_stopped_nat_network_is_not_nat_inbound_though_the_host_lost_its_address_there():
    libvirt_conn.connection(LAB_URI).networkLookupByName("default").destroy()
    addrs = obs("addr.list", AddrRow("eth0", "inet", "203.0.113.5", 24, "global"))
    ctx = platform(lab("web"), Overlay(addr_list=addrs), target="198.51.100.20", facts={"trace": _failed_trace()})
    assert [f.cause for f in ctx.findings] == ["libvirt.network_inactive"]


def test_the_host_itself_on_the_nat_network_is_no_nat_inbound_case():
    addrs = obs("addr.list", AddrRow("virbr0", "inet", "198.51.100.1", 24, "global"))
    ctx = platform(lab("web"), Overlay(addr_list=addrs), target="198.51.100.20",
                   facts={"trace": _failed_trace()})
    assert not [f for f in ctx.findings if f.cause == "libvirt.nat_inbound"]


def test_dnsmasq_processes_are_read_from_proc(tmp_path):
    def proc(pid: int, *argv: str) -> None:
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")

    proc(812, "/usr/sbin/dnsmasq", "--conf-file=/var/lib/libvirt/dnsmasq/default.conf", "--leasefile-ro")
    proc(813, "/usr/sbin/dnsmasq", "--conf-file=/etc/dnsmasq.conf")  # not libvirt's
    proc(900, "/bin/sleep", "--conf-file=/var/lib/libvirt/dnsmasq/other.conf")
    proc(814, "/usr/sbin/dnsmasq", "--conf-file=/var/lib/libvirt/dnsmasq/default.conf")  # another libvirtd's
    for pid in (812, 814):
        (tmp_path / str(pid) / "ns").mkdir()
        (tmp_path / str(pid) / "ns" / "net").write_text(str(pid))  # a file of its own: its own inode
    rows = dnsmasq_processes(str(tmp_path))
    assert [(r.network, r.pid) for r in rows] == [("default", 812), ("default", 814)]
    # Same network name, same conf path, another namespace: only the host side's counts.
    mine = (tmp_path / "812" / "ns" / "net").stat().st_ino
    assert [r.pid for r in dnsmasq_processes(str(tmp_path), mine)] == [812]
    assert run_probe("libvirt.dnsmasq", parse_vantage(lab("web"))).status == "skipped"  # test driver


def test_the_guests_dhcp_client_is_found_with_which():
    agent = FakeAgent({("which", "dhclient"): (1, "", ""), ("which", "udhcpc"): (0, "/sbin/udhcpc\n", "")})
    guest_agent.set_agent_transport(agent)
    o = run_probe("guest.dhcp_client", parse_vantage(lab("web")))
    assert o.ok and [r.name for r in o.rows] == ["udhcpc"] and isinstance(o.rows[0], PlatformSignRow)


# --- Windows guests (replies built from the cmdlets' documented output: windows_replies.py) -----

from tests.unit.support import windows_replies as win  # noqa: E402
from vnetdoctor.knowledge.checks_platform_windows import windows_guest_blocks  # noqa: E402
from vnetdoctor.probes import guest_windows as gw  # noqa: E402


class WindowsAgent(FakeAgent):
    """qemu-ga for Windows: guest-get-osinfo says mswindows; guest-exec runs powershell.exe."""

    def __init__(self, rules: str = win.RULES_PRIVATE_ONLY) -> None:
        ps = gw.POWERSHELL
        super().__init__({
            (*ps, gw.ADAPTERS): (0, win.ADAPTERS, ""),
            (*ps, gw.ADDRESSES): (0, win.ADDRESSES, ""),
            (*ps, gw.ROUTES): (0, win.ROUTES, ""),
            (*ps, gw.lookup_script("198.51.100.1")): (0, win.LOOKUP, ""),
            (*ps, gw.PROFILES): (0, win.PROFILES, ""),
            (*ps, gw.RULES): (0, rules, ""),
        }, polls_before_exit=0)

    def command(self, vantage, payload, timeout):
        if payload["execute"] == "guest-get-osinfo":
            return win.OSINFO
        return super().command(vantage, payload, timeout)


def test_a_windows_guest_is_probed_with_powershell_into_the_same_rows():
    guest_agent.set_agent_transport(WindowsAgent())
    guest = parse_vantage(lab("web"))
    assert guest_agent.is_windows(guest)
    (link,) = run_probe("link.list", guest).rows
    assert (link.name, link.mac, link.operstate, link.admin_up, link.carrier, link.mtu) == (
        "Ethernet", "52:54:00:00:00:02", "UP", True, True, 1500)
    addrs = run_probe("addr.list", guest).rows
    assert [(a.ifname, a.family, a.address, a.prefixlen, a.scope) for a in addrs] == [
        ("Ethernet", "inet", "198.51.100.20", 24, "global"), ("Ethernet", "inet6", "fe80::5054:ff:fe00:2", 64, "link")]
    routes = run_probe("route.list", guest).rows
    assert [(r.dst, r.gateway, r.dev) for r in routes] == [("default", "198.51.100.1", "Ethernet"),
                                                           ("198.51.100.0/24", "", "Ethernet")]
    (hop,) = run_probe("route.lookup", guest, dst="198.51.100.1").rows
    assert (hop.type, hop.dev, hop.prefsrc) == ("unicast", "Ethernet", "198.51.100.20")
    fw = run_probe("firewall.rules", guest)
    assert [(r.table, r.policy, r.verdict) for r in fw.rows if not r.rule] == [
        ("Domain", "drop", ""), ("Private", "drop", ""), ("Public", "drop", "")]


def test_ping_from_a_windows_guest_uses_windows_ping():
    agent = WindowsAgent()
    agent.programs[tuple(ping_argv("198.51.100.1", 3, 56, 1.0, None, windows=True))] = (0, WINDOWS, "")
    guest_agent.set_agent_transport(agent)
    o = run_probe("icmp.echo", parse_vantage(lab("web")), dst="198.51.100.1")
    assert o.ok and [r.rtt_ms for r in o.rows] == [1.0, None, 2.0]


def _guest_fw_ctx(rules: str) -> StepContext:
    agent = WindowsAgent(rules)
    guest_agent.set_agent_transport(agent)
    guest = parse_vantage(lab("web"))
    fw = run_probe("firewall.rules", guest)
    ctx = StepContext(Shared(Request("198.51.100.20", LOCAL, guest), Observer(), "en"), "network.firewall", "network")
    ctx.facts.update({"before": {"guest": (fw, None)}, "after": {"guest": (fw, None)}})
    return ctx


def test_windows_profile_without_an_echo_rule_is_the_guests_firewall():
    ctx = _guest_fw_ctx(win.RULES_PRIVATE_ONLY)
    assert windows_guest_blocks(ctx)
    (f,) = ctx.findings
    assert f.cause == "firewall.guest_blocks"
    assert [e.text for e in f.evidence] == [
        "Windows firewall profile Public is on and blocks inbound traffic by default; "
        "no enabled rule allows ICMPv4 echo (type 8) there"]
    (fix,) = f.fixes
    assert fix.where == lab("web") and fix.runnable
    assert fix.argv == ("powershell.exe", "-NoProfile", "-NonInteractive", "-Command", "New-NetFirewallRule",
                        "-Name", "vnetdoctor-icmpv4-echo-in", "-DisplayName", "vnetdoctor-icmpv4-echo-in",
                        "-Direction", "Inbound", "-Protocol", "ICMPv4", "-IcmpType", "8", "-Action", "Allow")
    assert fix.undo_argv[-3:] == ("Remove-NetFirewallRule", "-Name", "vnetdoctor-icmpv4-echo-in")


def test_a_windows_block_rule_is_named_and_disabled_not_outvoted():
    ctx = _guest_fw_ctx(win.RULES_BLOCK)
    assert windows_guest_blocks(ctx)
    (f,) = ctx.findings
    assert "Windows firewall rule Block-Ping (profile Any) blocks inbound ICMPv4 echo" in f.evidence[0].text
    (fix,) = f.fixes
    assert fix.argv[-3:] == ("Disable-NetFirewallRule", "-Name", "Block-Ping")
    assert fix.undo_argv[-3:] == ("Enable-NetFirewallRule", "-Name", "Block-Ping")


def test_a_rule_name_that_is_not_plain_stays_guidance_inside_powershell():
    ctx = _guest_fw_ctx(win.RULES_BLOCK.replace('"Name": "Block-Ping", "DisplayName": "Block-Ping"',
                                                '"Name": "x; Remove-Item", "DisplayName": "x; Remove-Item"'))
    windows_guest_blocks(ctx)
    (fix,) = ctx.findings[0].fixes
    assert (fix.runnable, fix.missing) == (False, ("value",))


def test_a_linux_guest_is_never_offered_a_windows_fix():
    from vnetdoctor.knowledge import catalog
    from vnetdoctor.knowledge.render import applicable

    chosen = applicable(catalog.get_cause("firewall.guest_blocks").fixes, {})
    assert chosen and not [t for t in chosen if t.when.startswith("os=")]


# --- the Start screen's discovery: --connect and --host ------------------------------------------


def test_start_screen_discovery_asks_the_connect_uri_and_keeps_it_and_the_host(monkeypatch, tmp_path):
    from vnetdoctor.session import targets

    monkeypatch.delenv("LIBVIRT_DEFAULT_URI", raising=False)
    found, _notes = targets.libvirt_targets("en", LAB_URI, "netns:vnlv-host")
    web = next(t for t in found if t.name == "web")
    # The walk must talk to the daemon the domain was found at, from the host side asked for.
    assert (web.guest, web.host) == (f"libvirt:web@{LAB_URI}", "netns:vnlv-host")
    assert {t.name for t in found} >= {"web", "db", "stopped", "frozen"}


def test_start_screen_discovery_default_is_libvirts_default_uri(monkeypatch):
    from vnetdoctor.session import targets

    monkeypatch.setenv("LIBVIRT_DEFAULT_URI", LAB_URI)
    found, _notes = targets.libvirt_targets()
    assert next(t for t in found if t.name == "web").guest == "libvirt:web"  # resolved the same way later
    monkeypatch.delenv("LIBVIRT_DEFAULT_URI")
    found, notes = targets.libvirt_targets("en", None)
    if not found:  # no system libvirtd here: the note names the URI it asked, qemu:///system
        assert notes and "qemu:///system: " in notes[0]


def test_tui_accepts_connect():
    from vnetdoctor.cli import build_parser

    args = build_parser().parse_args(["tui", "--connect", LAB_URI, "--host", "netns:vnlv-host"])
    assert (args.connect, args.host) == (LAB_URI, "netns:vnlv-host")


# --- STP's learning window, tap counters, DNS through the agent -----------------------------------

from vnetdoctor.knowledge.path import Path as NetPath  # noqa: E402
from vnetdoctor.knowledge.trace import Trace  # noqa: E402
from vnetdoctor.probes.rows import BridgePortRow, LinkRow  # noqa: E402
from vnetdoctor.probes.rows_active import DnsRow  # noqa: E402
from vnetdoctor.probes.rows_libvirt import DomainIfaceRow, DomainRow, IfStatRow, NetworkRow  # noqa: E402


def _step(step: str, observer: Observer, path: NetPath, trace: Any, guest: str | None = None) -> StepContext:
    req = Request(target="198.51.100.20", host=LOCAL, guest=parse_vantage(guest) if guest else None)
    shared = Shared(req, observer, "en")
    shared.memo("path_seen", lambda: (path, ()))
    ctx = StepContext(shared, step, step.split(".")[0])
    ctx.facts["trace"] = trace
    CHECKS[step](ctx)
    return ctx


def _echo_trace(error: str) -> Trace:
    rows = tuple(EchoRow("198.51.100.20", i, 7, 56, False, None, error=error) for i in (1, 2, 3))
    leg = Leg("forward", LOCAL, "198.51.100.20", 7, Observation("icmp.echo", "local", rows=rows), ())
    return Trace(leg, None, Observation("capture.path", "local"))


def test_stp_learning_right_after_start_is_not_named_when_the_sender_refused_to_send():
    path = NetPath(target="198.51.100.20", from_side="host", host_dev="virbr0", host_bridge="virbr0",
                   host_port="vnet0", guest_ip="198.51.100.20")
    links_ = obs("link.list", LinkRow(3, "virbr0", "bridge", "UP", True, True, 1500, "52:54:00:aa:00:01"),
                 LinkRow(9, "vnet0", "tun", "UP", True, True, 1500, "fe:54:00:00:00:02", master="virbr0"))
    ports = obs("bridge.ports", BridgePortRow("virbr0", "vnet0", "learning"))
    seen = Overlay(link_list=links_, bridge_ports=ports, bridge_list=obs("bridge.list"), bridge_fdb=obs("bridge.fdb"))
    eperm = _step("datalink.bridge_port", seen, path, _echo_trace("Operation not permitted"))
    assert eperm.findings == [] and eperm.status() == "pass"
    assert "vnet0 on virbr0 is still learning (STP, just joined)" in eperm.summary_note()
    lost = _step("datalink.bridge_port", seen, path, _echo_trace(""))
    assert [f.cause for f in lost.findings] == ["bridge.port_blocking"]  # nothing else explains it


def test_tap_counters_from_libvirt_are_said_when_the_pings_failed():
    guest = "libvirt:web@qemu:///system?socket=/nonexistent/vnlv-sock"
    canned = Overlay(
        libvirt_domains=obs("libvirt.domains", DomainRow("web", "running"), vantage=guest),
        libvirt_interfaces=obs("libvirt.interfaces", DomainIfaceRow("web", "52:54:00:00:00:02", "network", "default",
                                                                    target="vnet0", network="default"), vantage=guest),
        libvirt_networks=obs("libvirt.networks", NetworkRow("default", True, True, "nat", "virbr0"), vantage=guest),
        libvirt_ifstats=obs("libvirt.ifstats", IfStatRow(domain="web", target="vnet0", mac="52:54:00:00:00:02",
                                                         rx_packets=12, tx_packets=30, rx_errors=0, tx_errors=0,
                                                         rx_dropped=0, tx_dropped=17, rx_bytes=1, tx_bytes=1),
                            vantage=guest),
    )
    ctx = platform(guest, canned, facts={"trace": _failed_trace()})
    assert "libvirt counters of vnet0: rx 12 (dropped 0), tx 30 (dropped 17)" in ctx.summary_note()


def test_dns_check_reads_the_rcode_and_never_suggests_the_resolver_that_failed():
    path = NetPath(target="198.51.100.20", from_side="host", host_ip="198.51.100.1", guest_dev="eth0")
    refused = obs("dns.resolve", DnsRow("198.51.100.1", "answered", "REFUSED", None, "/etc/resolv.conf (guest)"),
                  vantage=lab("web"))
    ok_trace = SimpleNamespace(reachable=True, forward=None)
    ctx = _step("application.dns", Overlay(dns_resolve=refused), path, ok_trace, guest=lab("web"))
    (f,) = ctx.findings
    assert f.cause == "dns.unresolvable"
    assert f.evidence[0].text == "resolver 198.51.100.1 from /etc/resolv.conf (guest): REFUSED"
    assert all("198.51.100.1" not in x.command for x in f.fixes)  # the resolver that just refused
    assert all(not x.runnable for x in f.fixes)
    good = obs("dns.resolve", DnsRow("198.51.100.1", "answered", "NOERROR", None, "/etc/resolv.conf (guest)"),
               vantage=lab("web"))
    ctx = _step("application.dns", Overlay(dns_resolve=good), path, ok_trace, guest=lab("web"))
    assert ctx.status() == "pass" and ctx.summary_note() == "198.51.100.1 answers (NOERROR)"  # no invented rtt


def test_a_fix_of_several_steps_reads_one_command_per_line_in_the_console_report():
    from vnetdoctor.console_report import render
    from vnetdoctor.knowledge.model import Diagnosis, Finding

    fix = Fix.sequence([Fix.of(["virsh", "net-start", "default"], ["virsh", "net-destroy", "default"], risk="low",
                               where="local"),
                        Fix.of(["ip", "link", "set", "dev", "vnet0", "master", "virbr0"],
                               ["ip", "link", "set", "dev", "vnet0", "nomaster"], risk="low", where="local")])
    d = Diagnosis(Request("198.51.100.20", LOCAL), False,
                  causes=(Finding("libvirt.network_inactive", "platform", "net down", fixes=(fix,)),))
    out = render(d, None, "en")
    first = next(line for line in out.splitlines() if "virsh net-start default" in line)
    second = out.splitlines()[out.splitlines().index(first) + 1]
    assert second.split("   [")[0].strip() == "ip link set dev vnet0 master virbr0"  # risk after the last
    assert second.index("ip link") == first.index("virsh")  # aligned under the first command


def test_an_unreachable_daemon_is_said_once_and_in_the_operators_language(tmp_path) -> None:
    """The Start screen's note: the URI once, the reason translated (it was prefixed with the
    URI again, which kept the whole clause from matching its translation)."""
    from vnetdoctor.session.targets import libvirt_targets

    uri = f"qemu:///system?socket={tmp_path}/none.sock"
    targets, notes = libvirt_targets("zh", connect=uri)
    assert targets == [] and len(notes) == 1
    assert notes[0].startswith("libvirt：已跳过：无法连接 ")
    assert notes[0].count(uri) == 1 and "cannot connect" not in notes[0]
