"""``vnetdoctor bench netlink --quick``: prints its table and leaves no namespace behind.

No timing assertions: CI machines are noisy. The figures are for people; this
only proves the benchmark runs end to end and cleans up, also when interrupted.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from vnetdoctor.probes import caps

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(
        not (caps.has_cap(caps.CAP_NET_ADMIN) and caps.has_cap(caps.CAP_SYS_ADMIN)),
        reason="needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to create network namespaces",
    ),
]

CMD = [sys.executable, "-m", "vnetdoctor", "bench", "netlink", "--quick"]


def _namespace_exists(name: str) -> bool:
    return os.path.exists(f"/run/netns/{name}")


def test_quick_bench_prints_the_table_and_cleans_up() -> None:
    proc = subprocess.Popen(CMD, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    ns = f"vnd-bench-{proc.pid}"
    assert f"namespace {ns}" in out
    for measure in (
        "route lookup",
        "link dump",
        "route dump",
        "neighbour dump",
        "address dump",
        "CLI start to first probe",
        "peak RSS, route dump",
    ):
        assert measure in out
    assert "2,000 routes" in out and "target" in out
    assert all(column in out for column in ("pyroute2", "lean", "iproute2", "pyroute2/lean"))
    assert not _namespace_exists(ns)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_bench_removes_its_namespace(sig: signal.Signals) -> None:
    proc = subprocess.Popen(CMD, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ns = f"vnd-bench-{proc.pid}"
    deadline = time.monotonic() + 60
    while (
        not _namespace_exists(ns) and proc.poll() is None
    ):  # wait until there is something to clean up
        assert time.monotonic() < deadline, "the benchmark never created its namespace"
        time.sleep(0.005)
    proc.send_signal(sig)
    _out, err = proc.communicate(timeout=60)
    assert not _namespace_exists(ns)
    if proc.returncode != 0:  # it may have finished just before the signal
        assert proc.returncode == 130, err
        assert "Traceback" not in err and "interrupted" in err
