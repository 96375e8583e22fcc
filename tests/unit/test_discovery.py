"""Target discovery for a libvirt guest: agent, then DHCP lease, then the host's neighbours."""

from __future__ import annotations


import pytest
from tests.unit.support.libvirt_fakes import LAB_URI, FakeAgent, FakeLeases, lease
from vnetdoctor.knowledge.context import Shared, StepContext
from vnetdoctor.knowledge.discovery import describe, discover_into, discover_target
from vnetdoctor.knowledge.model import Request
from vnetdoctor.knowledge.observer import Observer
from vnetdoctor.probes import guest_agent, libvirt_conn
from vnetdoctor.probes.base import Observation, run_probe
from vnetdoctor.probes.rows import NeighRow
from vnetdoctor.probes.vantage import LOCAL, parse_vantage

pytest.importorskip("libvirt")

WEB = parse_vantage(f"libvirt:web@{LAB_URI}")
MAC = "52:54:00:00:00:02"


@pytest.fixture(autouse=True)
def isolated():
    libvirt_conn.forget(LAB_URI)
    yield
    libvirt_conn.forget(LAB_URI)


@pytest.fixture
def agent():
    previous = guest_agent.set_agent_transport(FakeAgent())
    try:
        yield
    finally:
        guest_agent.set_agent_transport(previous)


@pytest.fixture
def leases():
    fake = FakeLeases({"default": [lease(MAC, "198.51.100.20", hostname="web")]})
    previous = libvirt_conn.set_lease_source(fake)
    try:
        yield fake
    finally:
        libvirt_conn.set_lease_source(previous)


def with_host_neighbours(rows: list[NeighRow]):
    """Real probes for the guest; a recorded neighbour table for the host."""
    asked: list[str] = []

    def observe(probe_id: str, vantage, **params) -> Observation:
        asked.append(probe_id)
        if probe_id == "neigh.list":
            return Observation(probe="neigh.list", vantage=str(vantage), rows=tuple(rows))
        return run_probe(probe_id, vantage, **params)

    observe.asked = asked  # type: ignore[attr-defined]
    return observe


def test_agent_first(agent, leases):
    ip, lines = discover_target(WEB, LOCAL)
    assert ip == "198.51.100.7"
    assert lines == [f"agent: 198.51.100.7 on eth0 ({MAC})"]
    assert leases.asked == []  # the agent answered: no need to look further


def test_lease_when_there_is_no_agent(leases):
    ip, lines = discover_target(WEB, LOCAL)
    assert ip == "198.51.100.20"
    assert lines[0].startswith("agent: skipped: no guest agent: ")
    assert lines[1:] == [f"lease: 198.51.100.20 for {MAC} on default"]


def test_neighbour_table_last():
    observe = with_host_neighbours([
        NeighRow("virbr0", "198.51.100.9", "52:54:00:00:00:99", "REACHABLE"),
        NeighRow("virbr0", "198.51.100.7", MAC, "STALE"),
        NeighRow("virbr0", "198.51.100.8", MAC, "FAILED"),
    ])
    ip, lines = discover_target(WEB, LOCAL, observe=observe)
    assert ip == "198.51.100.7"
    assert lines[0].startswith("agent: skipped: no guest agent")
    assert lines[1:] == [
        "lease: skipped: the libvirt test driver has no DHCP leases",
        "neighbour: 198.51.100.7 on virbr0 (stale)",
    ]
    assert observe.asked == ["libvirt.interfaces", "guest.interfaces", "libvirt.leases", "neigh.list"]


def test_nothing_found_says_why_at_every_step(leases):
    leases.leases_by_network.clear()
    ip, lines = discover_target(WEB, LOCAL, observe=with_host_neighbours([]))
    assert ip is None
    assert lines[1:] == [f"lease: none for {MAC}", f"neighbour: none for {MAC} on local"]
    assert describe(lines).count("; ") == 2


def test_discover_into_sets_the_target_and_records_the_observations(agent):
    ctx = StepContext(Shared(Request(target=None, host=LOCAL, guest=WEB), Observer(), "en"), "symptom.ping", "symptom")
    assert discover_into(ctx) == "198.51.100.7"
    assert ctx.target == "198.51.100.7"
    assert ctx.notes == [f"agent: 198.51.100.7 on eth0 ({MAC})"]
    assert {o.probe for o in ctx.observations} == {"libvirt.interfaces", "guest.interfaces"}


def test_a_given_target_wins():
    ctx = StepContext(Shared(Request(target="198.51.100.50", host=LOCAL, guest=WEB), Observer(), "en"), "s", "symptom")
    assert discover_into(ctx) == "198.51.100.50" and ctx.observations == []
