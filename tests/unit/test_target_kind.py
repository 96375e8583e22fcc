"""Targets that are no host's address are refused before any packet (issue 8, item 7).

One function (``knowledge.target_kind.not_a_host``) decides; ``diagnose``, ``tui``
(and so ``demo``, which builds its request through them) and the Start screen's
form all call it. These tests never send anything: the refusal comes first, and
the in-process test proves the engine is never built.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys

import pytest
from vnetdoctor.knowledge.target_kind import ConnectedSubnet, classify, message, not_a_host
from vnetdoctor.session.request import RequestError, parse_request, parse_target

# (address, kind, words the line must contain)
NOT_HOSTS = [
    ("255.255.255.255", "limited_broadcast", "limited broadcast address"),
    ("224.0.0.1", "link_local_multicast", "link-local multicast"),
    ("224.0.0.251", "link_local_multicast", "link-local multicast"),
    ("239.255.255.250", "multicast", "multicast address"),
    ("0.0.0.0", "unspecified", "unspecified"),
    ("0.1.2.3", "this_network", "0.0.0.0/8"),
    ("127.0.0.1", "loopback", "loopback"),
    ("127.8.9.10", "loopback", "loopback"),
    ("::", "unspecified", "unspecified"),
    ("::1", "loopback", "loopback"),
    ("ff02::1", "link_local_multicast", "link-local multicast"),
    ("ff05::1:3", "multicast", "multicast address"),
]


@pytest.mark.parametrize(("address", "kind", "words"), NOT_HOSTS)
def test_each_kind_is_named(address: str, kind: str, words: str) -> None:
    found = classify(address)
    assert found is not None and found.kind == kind
    line = message(found, "en")
    assert line.startswith(f"{address} is ") and line.endswith(", not a host") and words in line
    assert "不是一台主机" in message(found, "zh")


@pytest.mark.parametrize("address", ["198.18.0.11", "192.0.2.1", "169.254.7.7", "198.51.100.255", "fe80::1"])
def test_host_addresses_pass(address: str) -> None:
    assert classify(address) is None
    assert not_a_host(address) is None  # no sender given: nothing else to compare with


def _subnet(net: str, dev: str = "br0") -> ConnectedSubnet:
    return ConnectedSubnet(ipaddress.ip_network(net), dev, "netns:lab-host")


def test_a_subnets_network_and_broadcast_address_are_not_hosts() -> None:
    subnets = [_subnet("198.51.100.0/25", "eth1"), _subnet("198.18.0.0/24")]
    edge = classify("198.18.0.255", subnets)
    assert edge is not None and edge.kind == "subnet_broadcast"
    assert message(edge) == "198.18.0.255 is the broadcast address of 198.18.0.0/24 on br0, not a host"
    assert message(edge, "zh") == "198.18.0.255 是 br0 上 198.18.0.0/24 的广播地址，不是一台主机"
    net = classify("198.51.100.0", subnets)
    assert net is not None and net.kind == "subnet_network" and net.dev == "eth1"
    assert message(net) == "198.51.100.0 is the network address of 198.51.100.0/25 on eth1, not a host"
    # Inside the subnet, and the edges of subnets the sender is not in: hosts.
    assert classify("198.18.0.254", subnets) is None
    assert classify("198.51.100.128", subnets) is None
    assert classify("203.0.113.255", subnets) is None


@pytest.mark.parametrize("net", ["198.18.0.10/31", "198.18.0.11/32"])
def test_point_to_point_subnets_have_no_edges(net: str) -> None:
    network = ipaddress.ip_network(net)
    for address in (network.network_address, network.broadcast_address):
        assert classify(str(address), [_subnet(net)]) is None


# --- the Start screen's form (and so ``tui --target``) ---------------------------------------

def test_the_form_refuses_by_kind_as_the_field_is_typed() -> None:
    with pytest.raises(RequestError) as err:
        parse_target("224.0.0.1", lang="zh")
    assert err.value.field == "target" and err.value.key == "form.not_a_host"
    assert err.value.fmt["reason"] == "224.0.0.1 是链路本地组播地址，不是一台主机"
    with pytest.raises(RequestError) as err:
        parse_request(target="::1")
    assert err.value.fmt["reason"] == "::1 is a loopback address (this machine itself), not a host"
    assert parse_request(target="198.18.0.11").target == "198.18.0.11"


# --- the command line: one line, exit 2, no traceback, nothing sent ----------------------------

def _cli(*argv: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, VNETDOCTOR_TEST_RANGES_ONLY="1")
    env.pop("VNETDOCTOR_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "vnetdoctor", *argv], check=False, capture_output=True,
                          text=True,
                          timeout=60, env=env, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize(("address", "kind", "words"), NOT_HOSTS)
@pytest.mark.parametrize("command", ["diagnose", "tui"])
def test_the_cli_refuses_with_one_line_and_exit_2(command: str, address: str, kind: str, words: str) -> None:
    res = _cli(command, "--target", address, "--no-record")
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    # One parser: both commands say it in the same words.
    assert f"--target {address} is " in lines[0] and words in lines[0]
    assert res.stdout == ""


def test_diagnose_refuses_before_building_the_engine(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from vnetdoctor.knowledge import engine

    from vnetdoctor.cli import main

    def no_engine(*args: object, **kwargs: object) -> None:
        raise AssertionError("the engine was built for a target that is no host")

    monkeypatch.setattr(engine.Engine, "__init__", no_engine)
    assert main(["diagnose", "--target", "255.255.255.255", "--no-record"]) == 2
    err = capsys.readouterr().err
    assert err == "vnetdoctor diagnose: --target 255.255.255.255 is the limited broadcast address, not a host\n"


# --- the last line: the active probes refuse such a destination themselves --------------------

@pytest.mark.parametrize("address", ["255.255.255.255", "224.0.0.1", "0.0.0.0", "127.0.0.1", "239.1.1.1"])
def test_active_probes_never_send_to_a_non_host(address: str) -> None:
    from vnetdoctor.probes.base import Skip
    from vnetdoctor.probes.safety import checked_ipv4

    with pytest.raises(Skip, match="is not a host address"):
        checked_ipv4(address)
    assert checked_ipv4("198.18.0.11") == "198.18.0.11"


def test_a_probe_asked_for_a_broadcast_reports_it_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the runner, as the engine would call it (the refusal precedes any socket)."""
    from vnetdoctor.probes import icmp
    from vnetdoctor.probes.base import SKIPPED, run_probe
    from vnetdoctor.probes.vantage import LOCAL

    def no_ping(*args: object, **kwargs: object) -> None:
        raise AssertionError("a packet was about to be sent")

    monkeypatch.setattr(icmp, "ping", no_ping)
    monkeypatch.setattr("vnetdoctor.probes.caps.has_cap", lambda cap: True)
    obs = run_probe("icmp.echo", LOCAL, dst="255.255.255.255", count=1)
    assert obs.status == SKIPPED and "limited broadcast" in obs.reason
