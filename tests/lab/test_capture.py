"""Path capture: frames carry the kernel's arrival time, so hops sort in path order."""

from __future__ import annotations

import os
import subprocess

import pytest

from vnetdoctor.probes.base import run_probe
from vnetdoctor.probes.capture import Capture
from vnetdoctor.probes.vantage import parse_vantage

pytestmark = pytest.mark.lab


@pytest.fixture
def pair():  # type: ignore[no-untyped-def]
    a, b = f"vnd-c{os.getpid() % 100000}a", f"vnd-c{os.getpid() % 100000}b"
    try:
        for ns in (a, b):
            subprocess.run(["ip", "netns", "add", ns], check=True)
        script = (f"link add va type veth peer name vb netns {b}\naddr add 198.18.251.1/24 dev va\nlink set va up\n")
        subprocess.run(["ip", "-n", a, "-batch", "-"], input=script, text=True, check=True)
        subprocess.run(["ip", "-n", b, "-batch", "-"], text=True, check=True,
                       input="addr add 198.18.251.2/24 dev vb\nlink set vb up\n")
        yield parse_vantage(f"netns:{a}"), parse_vantage(f"netns:{b}")
    finally:
        for ns in (a, b):
            subprocess.run(["ip", "netns", "del", ns], check=False)


def test_request_is_stamped_before_it_arrives(pair) -> None:  # type: ignore[no-untyped-def]
    a, b = pair
    cap = Capture([(a, "va"), (b, "vb"), (b, "missing0")], bpf="icmp")
    failed = cap.start()
    assert list(failed) == ["missing0@netns:" + b.name]
    obs = run_probe("icmp.echo", a, dst="198.18.251.2", count=3, ident=4321)
    rows = cap.stop(linger=0.05)
    assert obs.ok and all(r.rtt_ms is not None for r in obs.rows)
    for seq in (1, 2, 3):
        sent = [r for r in rows if r.tag == f"icmp:4321:{seq}" and r.iface == "va" and "echo-request" in r.summary]
        got = [r for r in rows if r.tag == f"icmp:4321:{seq}" and r.iface == "vb" and "echo-request" in r.summary]
        assert sent and got
        assert sent[0].summary.startswith("out") and got[0].summary.startswith("in")
        assert sent[0].time <= got[0].time
