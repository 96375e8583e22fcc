"""What a real libvirtd showed (issue 11), fixed: each finding on the test driver and fake agent replies.

The guest's ``ping`` and ``nslookup`` outputs below are what iputils, busybox and
Windows print (copied from their documented formats); the agent itself is the
FakeAgent of ``libvirt_fakes`` answering ``guest-exec`` with them.
"""

from __future__ import annotations

import pytest
from libvirt_fakes import LAB_URI, FakeAgent, lab
from vnetdoctor.knowledge.discovery import host_address
from vnetdoctor.knowledge.path import Hop
from vnetdoctor.knowledge.trace import Leg
from vnetdoctor.probes import guest_agent, libvirt_conn
from vnetdoctor.probes.base import Observation, run_probe
from vnetdoctor.probes.dns import read_nslookup
from vnetdoctor.probes.guest_ping import parse_ping, ping_argv
from vnetdoctor.probes.libvirt import check_domain
from vnetdoctor.probes.rows_active import EchoRow
from vnetdoctor.probes.vantage import LOCAL, parse_vantage

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
    rows = parse_ping(IPUTILS_EPERM, "198.51.100.1", 2, 56, 0)
    assert [r.error for r in rows] == ["Operation not permitted"] * 2
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


def _leg(uncaptured: frozenset[str], seen: dict[str, tuple[str, ...]]) -> Leg:
    guest = parse_vantage(lab("web"))
    hops = (Hop(LOCAL, "virbr0", "host", "bridge"), Hop(LOCAL, "vnet0", "host", "port"),
            Hop(guest, "eth0", "guest", "nic"))
    echo = Observation("icmp.echo", "local", rows=(EchoRow("198.51.100.20", 1, 5, 56, False, None),))
    return Leg("forward", LOCAL, "198.51.100.20", 5, echo, hops, seen, {}, uncaptured)


def test_no_evidence_about_a_guest_nic_nothing_captured():
    seen = {"1": ("host virbr0", "host vnet0")}
    assert _leg(frozenset(), seen).where() == "echo request seen on host vnet0, never on guest eth0"
    assert _leg(frozenset({"guest eth0"}), seen).where() == (
        "echo request seen on host vnet0; not captured in the guest (guest eth0): no vantage there")
    everything = frozenset({"host virbr0", "host vnet0", "guest eth0"})
    assert _leg(everything, {}).where() == "no capture point on the path could be opened"


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
