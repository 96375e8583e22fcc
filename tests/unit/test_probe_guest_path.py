"""Probes on a ``libvirt:`` vantage run iproute2/nft/sysctl through the guest command runner.

The runner here replays the outputs recorded from the lab's guest namespace,
standing in for qemu-guest-agent: the probes must produce the same rows the
netlink path produced from the same guest, and degrade to ``skipped`` when there
is no runner or the guest lacks a tool.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pytest
from tests.unit.support.probe_recording import chunks, messages, names, side
from vnetdoctor.probes import netlink_decode as nd
from vnetdoctor.probes import netlink_rows as nr
from vnetdoctor.probes import nsexec
from vnetdoctor.probes.base import load_all, run_probe
from vnetdoctor.probes.nsexec import CommandResult
from vnetdoctor.probes.vantage import Vantage

GUEST = Vantage("libvirt", "vm1")


class ReplayRunner:
    """Answers each argv with what the lab's guest namespace printed for it."""

    def __init__(self, recorded: dict[tuple[str, ...], dict], missing: Sequence[str] = ()):
        self.recorded = recorded
        self.missing = set(missing)
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, vantage: Vantage, argv: Sequence[str], timeout: float) -> CommandResult:
        argv = tuple(argv)
        self.calls.append(argv)
        if argv[0] in self.missing:
            return CommandResult(argv, 127, "", f"{argv[0]}: command not found")
        out = self.recorded.get(argv)
        if out is None:
            return CommandResult(argv, 127, "", f"{argv[0]}: not recorded")
        return CommandResult(argv, out["rc"], out["stdout"], out["stderr"])


def _recorded_guest() -> dict[tuple[str, ...], dict]:
    guest = side("guest")
    out = {tuple(v["argv"]): v for v in guest["ip"].values()}
    out.update({tuple(v["argv"]): v for v in guest["ip_route_get"].values()})
    out.update({tuple(v["argv"]): v for v in guest["firewall"].values()})
    out[tuple(guest["sysctl_a"]["argv"])] = guest["sysctl_a"]
    return out


@pytest.fixture(autouse=True)
def _probes_loaded():
    """Import every probe module first, as a diagnosis does."""
    load_all()


@pytest.fixture
def runner(monkeypatch):
    replay = ReplayRunner(_recorded_guest())
    monkeypatch.setitem(nsexec._guest_runners, "libvirt", replay)
    return replay


def _zero(row):
    return dataclasses.replace(
        row, rx_packets=0, tx_packets=0, rx_errors=0, tx_errors=0, rx_dropped=0, tx_dropped=0
    )


def test_link_addr_route_neigh_on_a_guest_equal_the_netlink_rows(runner):
    links = run_probe("link.list", GUEST)
    assert links.ok, links.reason
    assert [_zero(r) for r in links.rows] == [
        _zero(r) for r in nd.link_rows(nd.decode_links(chunks("guest", "link")))
    ]
    addrs = run_probe("addr.list", GUEST)
    assert sorted(addrs.rows, key=repr) == sorted(
        nr.addr_rows(messages("guest", "addr"), names("guest")), key=repr
    )
    routes = run_probe("route.list", GUEST)
    assert sorted(routes.rows, key=repr) == sorted(
        nd.decode_routes(chunks("guest", "route"), names("guest")), key=repr
    )
    neigh = run_probe("neigh.list", GUEST)
    assert neigh.ok
    assert '"ifname"' in links.raw  # the guest's own JSON is the evidence


def test_route_lookup_on_a_guest(runner):
    obs = run_probe("route.lookup", GUEST, dst="198.19.1.1")
    assert obs.ok, obs.reason
    (row,) = obs.rows
    assert (row.type, row.dev, row.gateway) == ("unicast", "eth0", "198.18.0.1")
    assert ("ip", "-j", "-d", "route", "get", "198.19.1.1") in runner.calls


def test_sysctls_on_a_guest(runner):
    obs = run_probe("sysctl.net", GUEST)
    assert obs.ok, obs.reason
    values = {r.key: r.value for r in obs.rows}
    assert values["net.ipv4.icmp_echo_ignore_all"] == "1"
    assert values["net.ipv4.conf.eth0.rp_filter"] == "2"
    assert values["net.ipv4.conf.all.arp_ignore"] == "1"
    assert "net.ipv4.tcp_syncookies" not in values


def test_firewall_on_a_guest_reads_every_backend(runner):
    obs = run_probe("firewall.rules", GUEST)
    assert obs.ok, obs.reason
    backends = {r.backend for r in obs.rows}
    assert backends >= {"nftables", "iptables-nft", "ebtables"}
    if side("guest")["firewall"]["iptables-legacy-save -c"]["stdout"].strip():
        assert "iptables-legacy" in backends
    drops = {(r.backend, r.rule) for r in obs.rows if r.verdict == "drop" and r.rule}
    assert ("nftables", 'ip protocol icmp counter drop comment "vnd lab"') in drops
    assert ("iptables-nft", "-s 198.18.0.1/32 -p icmp -j DROP") in drops


def test_guest_without_nft_still_gets_legacy_rows(monkeypatch):
    replay = ReplayRunner(_recorded_guest(), missing=("nft",))
    monkeypatch.setitem(nsexec._guest_runners, "libvirt", replay)
    obs = run_probe("firewall.rules", GUEST)
    assert obs.ok, obs.reason
    assert {r.backend for r in obs.rows} <= {"iptables-legacy"}
    assert "nft: not installed" in obs.raw


def test_guest_without_any_firewall_tool_is_skipped(monkeypatch):
    replay = ReplayRunner({}, missing=("nft", "iptables-legacy-save", "ip6tables-legacy-save"))
    monkeypatch.setitem(nsexec._guest_runners, "libvirt", replay)
    obs = run_probe("firewall.rules", GUEST)
    assert obs.status == "skipped"
    assert "no firewall tool could be read" in obs.reason


def test_no_guest_runner_means_skipped_not_error(monkeypatch):
    monkeypatch.delitem(nsexec._guest_runners, "libvirt", raising=False)
    monkeypatch.setattr(nsexec, "builtin_guest_runner", lambda kind: None)
    for probe_id in ("link.list", "addr.list", "route.list", "neigh.list", "sysctl.net"):
        obs = run_probe(probe_id, GUEST)
        assert obs.status == "skipped", (probe_id, obs)
        assert "no guest command runner" in obs.reason


def test_bridge_probes_do_not_claim_guests():
    assert run_probe("bridge.ports", GUEST).status == "skipped"
