"""The root-namespace guard can fail: pointed at a lab namespace, the very snapshot the
session guard takes of the root namespace sees the lab's links, addresses, routes,
rules and sysctls as differences."""

from __future__ import annotations

import pytest
from vnetdoctor.probes.nsexec import call_in
from vnetdoctor.probes.vantage import Vantage

from vnetdoctor.lab.guard import root_snapshot, snapshot_diff

pytestmark = pytest.mark.lab


def test_root_snapshot_is_real() -> None:
    snap = root_snapshot()
    assert any('"ifname": "lo"' in link for link in snap["links"])
    assert any(line.endswith(("/net/ipv4/ip_forward=0", "/net/ipv4/ip_forward=1")) for line in snap["sysctls"])
    assert snapshot_diff(snap, root_snapshot()) == []


def test_guard_sees_what_the_lab_changes(bring_up, lab_prefix: str) -> None:
    inst = bring_up("firewall.br_netfilter_drop")  # links, addresses, routes, nft and sysctls differ
    root = root_snapshot()
    # Taken from a thread inside the lab's host namespace: commands forked from it and
    # /proc/sys reads see that namespace, exactly as a lab leak into the root would look.
    host = call_in(Vantage("netns", inst.ns("host")), root_snapshot)
    diff = snapshot_diff(root, host)
    changed = {line.split(":", 1)[0] for line in diff}
    assert {"links", "addresses", "routes4", "nftables", "sysctls"} <= changed, changed
    root_ipv6 = next(v for v in root["sysctls"] if "/ipv6/conf/all/disable_ipv6=" in v)
    if root_ipv6.endswith("=0"):  # the lab turns IPv6 off in its namespaces
        assert "sysctls: + /proc/sys/net/ipv6/conf/all/disable_ipv6=1" in diff
