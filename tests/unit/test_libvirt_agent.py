"""The libvirt guest vantage: commands and interfaces through qemu-guest-agent.

The agent is the one thing the test driver lacks, so a fake answers with what
qemu-ga would, from ``ip -j`` output recorded in a guest-shaped namespace. The
parsing path is the real one end to end: run_command → the guest runner →
guest-exec/guest-exec-status → base64 → the link/addr/route probes' parsers.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from tests.unit.support.libvirt_fakes import LAB_URI, FakeAgent
from vnetdoctor.probes import guest_agent, libvirt_conn
from vnetdoctor.probes.base import OK, SKIPPED, run_probe
from vnetdoctor.probes.iproute_json import IP_LINK
from vnetdoctor.probes.nsexec import run_command
from vnetdoctor.probes.rows import AddrRow
from vnetdoctor.probes.rows_libvirt import GuestLinkRow
from vnetdoctor.probes.vantage import parse_vantage

pytest.importorskip("libvirt")
import vnetdoctor.probes.libvirt  # noqa: F401  - registers guest.interfaces

GUEST = parse_vantage(f"libvirt:web@{LAB_URI}")


@pytest.fixture
def agent():
    fake = FakeAgent()
    previous = guest_agent.set_agent_transport(fake)
    try:
        yield fake
    finally:
        guest_agent.set_agent_transport(previous)


def test_run_command_goes_through_guest_exec_and_polls_status(agent):
    result = run_command(GUEST, IP_LINK, timeout=5)
    assert result.returncode == 0
    assert result.stdout.startswith('[{"ifindex":1,"ifname":"lo"')
    kinds = [e for _, e, _ in agent.calls]
    assert kinds == ["guest-exec", "guest-exec-status", "guest-exec-status", "guest-exec-status"]
    assert agent.calls[0] == (str(GUEST), "guest-exec",
                              {"path": "ip", "arg": list(IP_LINK[1:]), "capture-output": True})


def test_link_addr_route_probes_parse_the_guest_like_a_namespace(agent):
    links = run_probe("link.list", GUEST)
    assert links.status == OK, links.reason
    eth0 = next(r for r in links.rows if r.name == "eth0")
    assert (eth0.kind, eth0.operstate, eth0.admin_up, eth0.carrier, eth0.mac, eth0.mtu) == (
        "veth", "UP", True, True, "52:54:00:00:00:02", 1500,
    )
    addrs = run_probe("addr.list", GUEST)
    assert ("eth0", "inet", "198.51.100.7", 24, "global") in {
        (a.ifname, a.family, a.address, a.prefixlen, a.scope) for a in addrs.rows
    }
    routes = run_probe("route.list", GUEST)
    assert routes.status == OK, routes.reason
    default = [r for r in routes.rows if r.dst == "default"]
    assert default and default[0].gateway == "198.51.100.1" and default[0].dev == "eth0"
    assert ("ip", "-j", "addr", "show") in agent.executed()


def test_guest_interfaces_from_the_agent(agent):
    obs = run_probe("guest.interfaces", GUEST)
    assert obs.status == OK, obs.reason
    links = [r for r in obs.rows if isinstance(r, GuestLinkRow)]
    addrs = [r for r in obs.rows if isinstance(r, AddrRow)]
    assert [link.name for link in links] == ["lo", "eth0", "eth1"]
    assert links[1] == GuestLinkRow(
        name="eth0", mac="52:54:00:00:00:02", addresses=("198.51.100.7/24", "fe80::5054:ff:fe00:2/64"),
        rx_packets=88, tx_packets=41, rx_errors=0, tx_errors=1, rx_dropped=3, tx_dropped=0,
    )
    assert links[2].addresses == ()  # a NIC without any address still shows
    assert [(a.ifname, a.family, a.address, a.prefixlen, a.scope) for a in addrs] == [
        ("lo", "inet", "127.0.0.1", 8, "host"),
        ("lo", "inet6", "::1", 128, "host"),
        ("eth0", "inet", "198.51.100.7", 24, "global"),
        ("eth0", "inet6", "fe80::5054:ff:fe00:2", 64, "link"),
    ]


def test_no_agent_is_a_skip_for_every_guest_probe():
    # The real transport against the test driver: it has no agent at all.
    libvirt_conn.forget(LAB_URI)
    result = run_command(GUEST, ["ip", "-j", "link"])
    assert result.returncode == 127 and result.stderr.startswith("no guest agent: ")
    for probe_id in ("link.list", "addr.list", "route.list", "neigh.list", "guest.interfaces"):
        obs = run_probe(probe_id, GUEST)
        assert obs.status == SKIPPED, (probe_id, obs.status, obs.reason)
        assert obs.reason.startswith("no guest agent"), (probe_id, obs.reason)


def test_unknown_domain_means_no_agent():
    result = run_command(parse_vantage(f"libvirt:nosuch@{LAB_URI}"), ["true"])
    assert result.returncode == 127
    assert result.stderr == f"no guest agent: no libvirt domain 'nosuch' on {LAB_URI}"


@pytest.mark.parametrize(
    ("fake", "code", "stderr"),
    [
        (FakeAgent(unavailable="Guest agent is not responding: QEMU guest agent is not connected"), 127,
         "no guest agent: Guest agent is not responding: QEMU guest agent is not connected"),
        (FakeAgent(exec_error="The command guest-exec has been disabled for this instance"), 127,
         "no guest agent exec: The command guest-exec has been disabled for this instance"),
        (FakeAgent(programs={}), 127, "nft: command not found in the guest"),
    ],
)
def test_failures_are_told_apart_by_the_result(fake, code, stderr):
    previous = guest_agent.set_agent_transport(fake)
    try:
        result = run_command(GUEST, ["nft", "-j", "list", "ruleset"])
    finally:
        guest_agent.set_agent_transport(previous)
    assert result.returncode == code
    assert result.stderr.startswith(stderr)


def test_exit_codes_signals_and_truncation():
    programs = {("sysctl", "-n", "net.ipv4.ip_forward"): (3, "1\n", "warning\n")}
    for fake, code, err in (
        (FakeAgent(programs), 3, "warning\n"),
        (FakeAgent(programs, signal=9), 137, "warning\n"),
        (FakeAgent(programs, truncated=True), 3, "warning\n\n(output truncated by the guest agent)"),
    ):
        previous = guest_agent.set_agent_transport(fake)
        try:
            result = run_command(GUEST, ["sysctl", "-n", "net.ipv4.ip_forward"])
        finally:
            guest_agent.set_agent_transport(previous)
        assert (result.returncode, result.stdout, result.stderr) == (code, "1\n", err)


def test_a_command_that_never_exits_times_out():
    fake = FakeAgent({("sleep", "100"): (0, "", "")}, never_exits=True)
    previous = guest_agent.set_agent_transport(fake)
    try:
        result = run_command(GUEST, ["sleep", "100"], timeout=0.2)
    finally:
        guest_agent.set_agent_transport(previous)
    assert result.returncode == 124
    assert result.stderr == "sleep: timed out after 0.2s in the guest"


def test_applying_a_guest_fix_needs_nobody_to_import_probes_libvirt_first():
    """The guest runner is looked up when a fix runs, not registered by an import elsewhere.

    A fresh interpreter imports only the fix door; if the runner still came from
    importing ``probes.libvirt``, the fix would end with "no guest command runner".
    """
    code = textwrap.dedent('''
        import sys
        from vnetdoctor.knowledge.apply import apply_fix
        from vnetdoctor.knowledge.model import Fix
        from vnetdoctor.probes import guest_agent

        class Agent:
            def __init__(self):
                self.calls = []

            def command(self, vantage, payload, timeout):
                self.calls.append((str(vantage), payload["execute"]))
                if payload["execute"] == "guest-exec":
                    return {"pid": 7}
                return {"exited": True, "exitcode": 0, "out-data": "b2sK"}

        agent = Agent()
        guest_agent.set_agent_transport(agent)
        fix = Fix.of(["ip", "link", "set", "eth0", "up"], risk="low", where="libvirt:web")
        result = apply_fix(fix, timeout=5)
        print(result.returncode, repr(result.stdout), agent.calls)
        print("vnetdoctor.probes.libvirt" in sys.modules)
    ''')
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == [
        "0 'ok\\n' [('libvirt:web', 'guest-exec'), ('libvirt:web', 'guest-exec-status')]",
        "False",
    ]
