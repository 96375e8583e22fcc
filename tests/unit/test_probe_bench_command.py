"""``vnetdoctor bench``: dispatch, the one-line errors, and the result table (no root needed)."""

from __future__ import annotations

import argparse
import importlib

import pytest
from vnetdoctor.probes import caps

from vnetdoctor import bench_netlink
from vnetdoctor.cli import main
from vnetdoctor.commands import bench


def test_without_root_one_line_and_exit_2(monkeypatch, capsys):
    monkeypatch.setattr(caps, "effective_caps", lambda: 0)
    assert main(["bench", "netlink", "--quick"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs root" in err and "CAP_NET_ADMIN" in err


def test_a_broken_benchmark_import_fails_before_any_benchmark_runs(monkeypatch):
    """Every benchmark ships with the package, so an import error is a bug: it is raised
    (not turned into "not available"), and before "all" has run anything."""
    real = importlib.import_module

    def fake_import(name, *args, **kwargs):
        if name == "vnetdoctor.bench_diagnose":
            raise ModuleNotFoundError("No module named 'vnetdoctor.bench_diagnose'", name=name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(bench.importlib, "import_module", fake_import)
    ran = []
    monkeypatch.setattr(bench_netlink, "run", lambda args: ran.append(args) or 0)
    with pytest.raises(ModuleNotFoundError, match="bench_diagnose"):
        bench.run(argparse.Namespace(what="diagnose", quick=True))
    # "all" fails before running anything rather than half-way
    with pytest.raises(ModuleNotFoundError):
        bench.run(argparse.Namespace(what="all", quick=True))
    assert ran == []


def test_dispatch_runs_each_benchmark_and_keeps_the_worst_status(monkeypatch):
    calls = []
    monkeypatch.setattr(bench_netlink, "run", lambda args: calls.append("netlink") or 0)

    class FakeDiagnose:
        @staticmethod
        def run(args):
            calls.append("diagnose")
            return 1

    real = importlib.import_module
    monkeypatch.setattr(
        bench.importlib,
        "import_module",
        lambda name, *a, **k: (
            FakeDiagnose if name == "vnetdoctor.bench_diagnose" else real(name, *a, **k)
        ),
    )
    assert bench.run(argparse.Namespace(what="all", quick=True)) == 1
    assert calls == ["netlink", "diagnose"]


def test_render_table_puts_pyroute2_lean_and_iproute2_side_by_side():
    figure = bench_netlink.Figure
    figures = [
        figure("route lookup", 0.25, None, 1.8, "ms", "pyroute2", "<= 5 ms", "PASS", "100,000 routes"),
        figure("route dump", 9_600.0, 300.0, 150.0, "ms", "lean", "<= 3x ip", "PASS"),
        figure("CLI start to first probe", 270.0, None, None, "ms", "", "<= 500 ms", "PASS"),
        figure("peak RSS, route dump", None, 45.0, 2.5, "MiB", "lean"),
    ]
    text = bench_netlink.render(figures, bench_netlink.FULL, "vnd-bench-1", 2.5)
    lines = text.splitlines()
    assert "100,000 routes, 2,000 interfaces, 10,000 neighbours" in lines[0]
    assert lines[2].split() == [
        "measure", "pyroute2", "lean", "iproute2", "probe/ip", "pyroute2/lean", "target", "result"
    ]
    # what the probe uses is starred; the ratio to ip is of that one; the gain is pyroute2/lean
    (dump,) = [line.split() for line in lines if line.startswith("route dump")]
    assert dump[2:] == ["9.60", "s", "300.0", "ms*", "150.0", "ms", "2.00x", "32.00x", "<=", "3x",
                        "ip", "PASS"]
    (lookup,) = [line.split() for line in lines if line.startswith("route lookup")]
    assert lookup[2:7] == ["0.25", "ms*", "-", "1.80", "ms"] and "0.14x" in lookup
    assert any(line.startswith("CLI start to first probe") and "270.0 ms" in line for line in lines)
    assert any("peak RSS" in line and "45.0 MiB*" in line for line in lines)
    assert "  route lookup: 100,000 routes" in text and "  * what the probe uses" in text


def test_addresses_stay_in_the_benchmarking_range():
    from ipaddress import IPv4Address, ip_network

    from vnetdoctor import bench_netlink_ns as ns

    allowed = ip_network("198.18.0.0/15")
    sizes = ns.FULL
    last_route = IPv4Address(int(ns.FIRST_ROUTE) + sizes.routes - 1)
    last_neigh = IPv4Address(int(ns.FIRST_NEIGH) + sizes.neighbours - 1)
    for address in (
        ns.FIRST_ROUTE,
        last_route,
        ns.FIRST_NEIGH,
        last_neigh,
        IPv4Address(ns.GATEWAY),
        ip_network(ns.LINK_NET, strict=False).network_address,
    ):
        assert address in allowed
    assert last_route < ns.FIRST_NEIGH  # routes and neighbours do not overlap
