"""libvirt probes against the real libvirt test driver (tests/data/libvirt/lab.xml).

Only the DHCP leases, which the test driver cannot list, come from a fake lease
source; every other row is what libvirt itself parsed from the XML.
"""

from __future__ import annotations

import sys

import pytest
from tests.unit.support.libvirt_fakes import LAB_URI, LAB_XML, FakeLeases, lease
from vnetdoctor.probes import libvirt_conn
from vnetdoctor.probes.base import (
    ERROR,
    OK,
    SKIPPED,
    Observation,
    row_from_dict,
    row_to_dict,
    run_probe,
)
from vnetdoctor.probes.libvirt import path_rows
from vnetdoctor.probes.libvirt_check import check_domain
from vnetdoctor.probes.rows import LinkRow
from vnetdoctor.probes.rows_libvirt import (
    DomainIfaceRow,
    DomainRow,
    LeaseRow,
    NetworkRow,
    PathRow,
)
from vnetdoctor.probes.vantage import LOCAL, parse_vantage

pytest.importorskip("libvirt")


def lab(domain: str = "web"):
    return parse_vantage(f"libvirt:{domain}@{LAB_URI}")


@pytest.fixture(autouse=True)
def fresh_connection():
    """Each test starts from the XML: state changes made through the cached connection vanish."""
    libvirt_conn.forget(LAB_URI)
    yield
    libvirt_conn.forget(LAB_URI)


@pytest.fixture
def leases():
    fake = FakeLeases(
        {
            "default": [
                lease("52:54:00:00:00:02", "198.51.100.20", hostname="web"),
                lease("52:54:00:00:00:99", "198.51.100.150", hostname="other"),
            ],
            "routed": [lease("52:54:00:00:00:06", "192.0.2.11", prefix=25, iface="virbr2")],
        }
    )
    previous = libvirt_conn.set_lease_source(fake)
    try:
        yield fake
    finally:
        libvirt_conn.set_lease_source(previous)


def test_domains_state_autostart_persistence_and_agent_channel():
    obs = run_probe("libvirt.domains", lab())
    assert obs.status == OK, obs.reason
    rows = {r.name: r for r in obs.rows}
    assert list(rows) == ["asleep", "db", "frozen", "orphan", "stopped", "vtap", "web"]  # sorted by name
    assert {n: r.state for n, r in rows.items()} == {
        "asleep": "pmsuspended", "db": "running", "frozen": "paused", "orphan": "running",
        "stopped": "shutoff", "vtap": "running", "web": "running",
    }
    web = rows["web"]
    assert web == DomainRow(
        name="web", state="running", reason=web.reason, autostart=False, persistent=True,
        agent_channel=True, interfaces=1, id=web.id, uuid="5e0a1b2c-0000-4000-8000-000000000001",
    )
    assert web.id > 0
    assert rows["db"].agent_channel is False and rows["db"].interfaces == 2
    assert rows["stopped"].id == -1
    assert "driver TEST" in obs.raw


def test_domain_filter_and_unknown_domain():
    obs = run_probe("libvirt.domains", lab(), domain="frozen")
    assert [r.name for r in obs.rows] == ["frozen"]
    missing = run_probe("libvirt.domains", lab(), domain="nosuch")
    assert missing.status == ERROR
    assert f"no libvirt domain 'nosuch' on {LAB_URI}" in missing.reason


def test_interfaces_from_the_xml():
    obs = run_probe("libvirt.interfaces", lab(), domain="db")
    assert obs.status == OK, obs.reason
    assert obs.rows == (
        DomainIfaceRow(
            domain="db", mac="52:54:00:00:00:03", type="network", source="default", target="testnet0",
            link_state="down", model="virtio", filterref="clean-traffic", bridge="", network="default",
        ),
        DomainIfaceRow(
            domain="db", mac="52:54:00:00:00:04", type="bridge", source="br0", target="testnet1",
            link_state="up", model="e1000", filterref="", bridge="br0", network="",
        ),
    )
    assert "<link state='down'/>" in obs.raw  # the evidence keeps the XML
    every = run_probe("libvirt.interfaces", lab())
    assert [(r.domain, r.mac) for r in every.rows] == [
        ("asleep", "52:54:00:00:00:08"), ("db", "52:54:00:00:00:03"), ("db", "52:54:00:00:00:04"), ("frozen", "52:54:00:00:00:06"),
        ("orphan", "52:54:00:00:00:07"), ("stopped", "52:54:00:00:00:05"), ("vtap", "52:54:00:00:00:0a"),
        ("web", "52:54:00:00:00:02"),
    ]


def test_networks_nat_isolated_routed():
    obs = run_probe("libvirt.networks", lab())
    assert obs.status == OK, obs.reason
    nets = {n.name: n for n in obs.rows}
    assert nets["default"] == NetworkRow(
        name="default", active=True, autostart=False, forward="nat", bridge="virbr0",
        address="198.51.100.1", prefixlen=24, dhcp_start="198.51.100.100", dhcp_end="198.51.100.199",
        static_hosts=1, forward_dev="", persistent=True, uuid="0f1b2c3d-0000-4000-8000-000000000001",
        host_macs=("52:54:00:00:00:02",),
    )
    assert (nets["isolated"].forward, nets["isolated"].bridge, nets["isolated"].prefixlen) == ("isolated", "virbr1", 24)
    assert nets["isolated"].dhcp_start == "" and nets["isolated"].static_hosts == 0
    routed = nets["routed"]
    assert (routed.forward, routed.forward_dev, routed.address, routed.prefixlen) == ("route", "uplink0", "192.0.2.1", 25)
    assert (routed.dhcp_start, routed.dhcp_end) == ("192.0.2.10", "192.0.2.60")


def test_network_stopped_and_autostarted_through_the_connection():
    """State changes a real operator makes show in the next observation (same cached connection)."""
    conn = libvirt_conn.connection(LAB_URI)
    conn.networkLookupByName("isolated").destroy()
    conn.networkLookupByName("default").setAutostart(1)
    nets = {n.name: n for n in run_probe("libvirt.networks", lab()).rows}
    assert nets["isolated"].active is False
    assert nets["default"].autostart is True


def test_leases_on_the_test_driver_are_skipped_with_the_reason():
    obs = run_probe("libvirt.leases", lab())
    assert obs.status == SKIPPED
    assert obs.reason == "the libvirt test driver has no DHCP leases"


def test_leases_from_the_lease_source(leases):
    obs = run_probe("libvirt.leases", lab())
    assert obs.status == OK, obs.reason
    assert [(r.network, r.mac, r.ip) for r in obs.rows] == [
        ("default", "52:54:00:00:00:02", "198.51.100.20"),
        ("default", "52:54:00:00:00:99", "198.51.100.150"),
        ("routed", "52:54:00:00:00:06", "192.0.2.11"),
    ]
    assert obs.rows[0] == LeaseRow(
        network="default", mac="52:54:00:00:00:02", ip="198.51.100.20", prefixlen=24, hostname="web",
        expiry=1_900_000_000, iface="virbr0", clientid="01:52:54:00:00:00:02",
    )
    mine = run_probe("libvirt.leases", lab(), domain="web")
    assert [(r.mac, r.ip) for r in mine.rows] == [("52:54:00:00:00:02", "198.51.100.20")]
    assert "routed" not in leases.asked[-1:]  # only web's network was asked for web


def test_leases_skip_inactive_networks(leases):
    libvirt_conn.connection(LAB_URI).networkLookupByName("routed").destroy()
    obs = run_probe("libvirt.leases", lab())
    assert [r.network for r in obs.rows] == ["default", "default"]
    assert "routed: inactive, no dnsmasq" in obs.raw


def test_ifstats_for_running_interfaces_only():
    obs = run_probe("libvirt.ifstats", lab())
    assert obs.status == OK, obs.reason
    keys = [(r.domain, r.target) for r in obs.rows]
    assert ("stopped", "testnet0") not in keys  # shut off: no counters
    assert ("db", "testnet0") in keys and ("db", "testnet1") in keys and ("web", "testnet0") in keys
    assert all(r.rx_packets >= 0 and r.tx_dropped >= 0 for r in obs.rows)
    assert "test driver: the counters are invented" in obs.raw


def test_path_map_on_the_test_driver():
    obs = run_probe("libvirt.path", lab(), domain="db")
    assert obs.status == OK, obs.reason
    first, second = obs.rows
    assert (first.mac, first.tap, first.bridge, first.network, first.link_state, first.network_active) == (
        "52:54:00:00:00:03", "testnet0", "virbr0", "default", "down", True,
    )
    assert (second.tap, second.bridge, second.network, second.network_active) == ("testnet1", "br0", "", None)
    # The test driver invents tap names: they are not looked for on the host.
    assert first.tap_present is None and "tap names are invented" in first.note
    stopped = run_probe("libvirt.path", lab(), domain="stopped").rows[0]
    assert stopped.tap == "" and "domain not running" in stopped.note
    orphan = run_probe("libvirt.path", lab(), domain="orphan").rows[0]
    assert orphan.network_active is None and "network 'gone' is not defined" in orphan.note


def _link(name: str, master: str = "", operstate: str = "UP") -> LinkRow:
    return LinkRow(ifindex=7, name=name, kind="tun", operstate=operstate, admin_up=True, carrier=True,
                   mtu=1500, mac="fe:54:00:00:00:02", master=master)


def test_path_rows_join_xml_networks_and_host_links():
    ifaces = [
        DomainIfaceRow("g", "52:54:00:00:00:02", "network", "default", target="vnet0", network="default"),
        DomainIfaceRow("g", "52:54:00:00:00:03", "bridge", "br0", target="vnet1", bridge="br0"),
        DomainIfaceRow("g", "52:54:00:00:00:04", "network", "default", target="vnet2", link_state="down",
                       network="default"),
        DomainIfaceRow("g", "52:54:00:00:00:05", "direct", "eno1", target="macvtap0"),
    ]
    nets = {"default": NetworkRow("default", True, True, "nat", bridge="virbr0")}
    links = {"vnet0": _link("vnet0", "virbr0"), "vnet2": _link("vnet2", "virbr0"), "macvtap0": _link("macvtap0")}
    rows = path_rows(ifaces, nets, {"g": True}, links)
    assert rows[0] == PathRow(
        domain="g", mac="52:54:00:00:00:02", tap="vnet0", bridge="virbr0", network="default", link_state="up",
        network_active=True, tap_present=True, tap_operstate="UP", tap_master="virbr0", type="network", note="",
    )
    assert rows[1].tap_present is False and rows[1].note == "vnet1 does not exist on the host"
    # <link state='down'/>: the host tap still looks UP; only the XML says otherwise.
    assert (rows[2].link_state, rows[2].tap_operstate) == ("down", "UP")
    assert "the host cannot reach this guest through eno1" in rows[3].note
    detached = path_rows(ifaces[:1], nets, {"g": True}, {"vnet0": _link("vnet0", "")})[0]
    assert detached.note == "vnet0 should be a port of virbr0, is on no bridge"


def test_rows_survive_a_recording_round_trip():
    obs = run_probe("libvirt.path", lab(), domain="db")
    again = Observation.from_dict(obs.to_dict())
    assert again.rows == obs.rows
    assert row_from_dict(row_to_dict(obs.rows[0])) == obs.rows[0]


def test_no_connection_is_a_skip_with_the_reason():
    bad = parse_vantage("libvirt:web@qemu:///system?socket=/nonexistent/vnetdoctor.sock")
    obs = run_probe("libvirt.domains", bad)
    assert obs.status == SKIPPED
    assert obs.reason.startswith("cannot connect to qemu:///system?socket=/nonexistent/vnetdoctor.sock: ")
    missing_file = parse_vantage("libvirt:web@test:///nonexistent/vnetdoctor-lab.xml")
    obs = run_probe("libvirt.networks", missing_file)
    assert obs.status == SKIPPED
    assert obs.reason == "cannot connect to test:///nonexistent/vnetdoctor-lab.xml: no such file /nonexistent/vnetdoctor-lab.xml"


def test_without_libvirt_python_every_probe_skips(monkeypatch):
    monkeypatch.setitem(sys.modules, "libvirt", None)  # import libvirt → ImportError
    for probe_id in ("libvirt.domains", "libvirt.interfaces", "libvirt.networks", "libvirt.leases",
                     "libvirt.ifstats", "libvirt.path"):
        obs = run_probe(probe_id, lab())
        assert obs.status == SKIPPED, probe_id
        assert obs.reason.startswith("needs libvirt-python"), obs.reason


def test_local_vantage_uses_the_default_uri(monkeypatch):
    monkeypatch.setenv("LIBVIRT_DEFAULT_URI", LAB_URI)
    obs = run_probe("libvirt.domains", LOCAL, domain="web")
    assert [r.name for r in obs.rows] == ["web"]


def test_host_side_only():
    obs = run_probe("libvirt.domains", parse_vantage("netns:vnd-nonexistent"))
    assert obs.status == SKIPPED and obs.reason == "not available on a netns vantage"


def test_check_domain_for_the_command_line():
    assert check_domain(lab("web")) is None
    assert check_domain(lab("nosuch")) == f"no libvirt domain 'nosuch' on {LAB_URI}"
    assert check_domain(parse_vantage("libvirt:x@test:///nonexistent/x.xml")).startswith("cannot connect to")


def test_xml_path_is_absolute():
    assert LAB_URI == f"test://{LAB_XML}" and LAB_URI.startswith("test:///")


def test_importing_the_probes_is_cheap_and_registers_nothing():
    """libvirt itself loads only when a probe runs; importing the probes registers no runner,
    yet the guest-agent runner is found for a libvirt vantage (looked up, not registered)."""
    import subprocess

    code = (
        "import sys, vnetdoctor.probes.libvirt, vnetdoctor.knowledge.checks_platform, "
        "vnetdoctor.knowledge.discovery\n"
        "from vnetdoctor.probes import nsexec\n"
        "print(sorted(m for m in ('libvirt', 'libvirt_qemu', 'textual') if m in sys.modules))\n"
        "print(sorted(nsexec._guest_runners))\n"
        "from vnetdoctor.probes.guest_agent import run_in_guest\n"
        "print(nsexec.guest_runner('libvirt') is run_in_guest, nsexec.guest_runner('netns'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["[]", "[]", "True None"]
