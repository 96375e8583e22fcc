"""Finding a guest's address from the host's neighbour table, read in a real namespace
(the libvirt test driver has the domain; no DHCP lease names the address)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest
from tests.unit.support.libvirt_fakes import LAB_URI, FakeLeases
from vnetdoctor.knowledge.discovery import discover_target
from vnetdoctor.probes import libvirt_conn
from vnetdoctor.probes.vantage import parse_vantage

pytest.importorskip("libvirt")

WEB = parse_vantage(f"libvirt:web@{LAB_URI}")
MAC = "52:54:00:00:00:02"


@pytest.fixture
def no_leases() -> Iterator[None]:
    """A lease source with no lease, so the neighbour table is what finds the address."""
    libvirt_conn.forget(LAB_URI)
    previous = libvirt_conn.set_lease_source(FakeLeases({}))
    try:
        yield
    finally:
        libvirt_conn.set_lease_source(previous)
        libvirt_conn.forget(LAB_URI)


def test_neighbour_discovery_in_a_real_namespace(no_leases):
    """The host's neighbour table read by the real neigh.list probe inside a namespace."""
    prefix = f"vnd-tpl{os.getpid()}-"
    host, peer = f"{prefix}h", f"{prefix}p"
    try:
        for ns in (host, peer):
            subprocess.run(["ip", "netns", "add", ns], check=True)
        subprocess.run(["ip", "-n", host, "link", "add", "vnet0", "type", "veth", "peer", "name", "eth0",
                        "netns", peer], check=True)
        subprocess.run(["ip", "-n", host, "addr", "add", "198.18.0.1/24", "dev", "vnet0"], check=True)
        subprocess.run(["ip", "-n", host, "link", "set", "vnet0", "up"], check=True)
        subprocess.run(["ip", "-n", host, "neigh", "add", "198.18.0.11", "lladdr", MAC, "dev", "vnet0",
                        "nud", "permanent"], check=True)
        ip, lines = discover_target(WEB, parse_vantage(f"netns:{host}"))
        assert ip == "198.18.0.11"
        assert lines[-1] == "neighbour: 198.18.0.11 on vnet0 (permanent)"
    finally:
        for ns in (host, peer):
            subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True)
