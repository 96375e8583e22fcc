"""What the Start screen "discovers" in the tests: two libvirt guests and a VMware network,
and the note of a source that could not be asked."""

from __future__ import annotations

from vnetdoctor.session.targets import Target

TARGETS = [
    Target("libvirt", "web01", "running", ("192.0.2.10",), ("52:54:00:12:34:56",), guest="libvirt:web01",
           target="192.0.2.10"),
    Target("libvirt", "db02", "shutoff", (), ("52:54:00:ab:cd:ef",), guest="libvirt:db02",
           note="start.note_no_agent"),
    Target("vmware", "vmnet8", "UP", ("198.51.100.1/24",), ("00:50:56:c0:00:08",), note="start.note_type_guest_ip"),
]
NOTES = ["libvirt leases: skipped: needs libvirt-python"]


def discover() -> tuple[list[Target], list[str]]:
    return list(TARGETS), list(NOTES)
