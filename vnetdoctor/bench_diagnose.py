"""``vnetdoctor bench diagnose``: how long a diagnosis takes on every lab scenario.

Brings each scenario up (in namespaces with a ``vnd-bd`` prefix), runs the whole
walk several times in-process, and prints one table: median and worst time per
scenario, the first cause named and whether it is the scenario's. Then it measures
the command line's start-up: from spawning ``vnetdoctor diagnose`` to its first
probe (the engine prints that moment when VNETDOCTOR_TIMING=1), against
``python -c pass`` in the same run as the floor. Targets (issue 3): median over the
scenarios ≤ 3 s, healthy ≤ 2 s, start to first probe ≤ 0.5 s.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import subprocess
import sys
import time

PREFIX = "vnd-bd-"
LAB_TARGET_S = 1.0  # lab up or down of one scenario: well under a second on a quiet machine


def _request(args: list[str]):  # type: ignore[no-untyped-def]
    from vnetdoctor.cli import build_parser
    from vnetdoctor.commands.diagnose import build_request

    ns = build_parser().parse_args(["diagnose", *args, "--no-record", "--lang", "en"])
    return build_request(ns)


def time_scenarios(runs: int, only: list[str] | None = None, prefix: str = PREFIX) -> list[dict]:
    from vnetdoctor import lab
    from vnetdoctor.knowledge.engine import Engine

    out = []
    for name, scenario in lab.SCENARIOS.items():
        if only and name not in only:
            continue
        if scenario.available() is not None:
            continue
        lab.down(prefix)
        up_s = float("nan")
        try:
            started = time.perf_counter()
            inst = lab.up(name, prefix)
            up_s = time.perf_counter() - started
            request = _request(inst.diagnose_args())
            without = dataclasses.replace(request, kernel_drops=False)
            times, plain, first, reachable = [], [], None, None
            for i in range(runs):
                # Alternate which goes first: a walk leaves the lab's neighbour caches warm
                # for the next one, which must not count for either side.
                for req in ((request, without) if i % 2 == 0 else (without, request)):
                    start = time.perf_counter()
                    d = Engine(req).run()
                    (times if req is request else plain).append(time.perf_counter() - start)
                    if req is request:
                        first = d.causes[0].cause if d.causes else None
                        reachable = d.reachable
            out.append({"scenario": name, "cause": scenario.cause, "first": first,
                        "median_s": statistics.median(times), "max_s": max(times), "reachable": reachable,
                        "plain_s": statistics.median(plain), "up_s": up_s})
        finally:
            started = time.perf_counter()
            lab.down(prefix)
            down_s = time.perf_counter() - started
            if out and out[-1]["scenario"] == name:
                out[-1]["down_s"] = down_s
    return out


def lab_summary(rows: list[dict]) -> str:
    """How long the lab takes to build and take down (a speed target, so here, not in a test)."""
    ups = [r["up_s"] for r in rows if "up_s" in r]
    downs = [r["down_s"] for r in rows if "down_s" in r]
    worst = max(rows, key=lambda r: r.get("up_s", 0.0))["scenario"] if rows else "-"
    return (f"lab up:   median {_median(ups):.2f} s, worst {max(ups, default=float('nan')):.2f} s ({worst})"
            f"   lab down: median {_median(downs):.2f} s, worst {max(downs, default=float('nan')):.2f} s"
            f"   (target: each under {LAB_TARGET_S:g} s)")


def startup_to_first_probe(runs: int = 5, prefix: str = PREFIX) -> tuple[float, float]:
    """(median seconds from spawn to first probe, median seconds of `python -c pass`)."""
    from vnetdoctor import lab

    lab.down(prefix)
    inst = lab.up("healthy", prefix)
    try:
        from vnetdoctor.bench_netlink_ns import first_probe_ms

        argv = [sys.executable, "-m", "vnetdoctor", "diagnose", *inst.diagnose_args(),
                "--no-record", "--json"]
        first_probe_ms(argv)  # the first run may compile the bytecode cache: not counted
        cli, floor = [], []
        for _ in range(runs):
            cli.append(first_probe_ms(argv) / 1000.0)
            t1 = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], check=True)
            floor.append(time.perf_counter() - t1)
        return (statistics.median(cli) if cli else float("nan"), statistics.median(floor))
    finally:
        lab.down(prefix)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def kernel_summary(rows: list[dict]) -> str:
    """Issue 12's line: broken and healthy medians with the kernel's word and without it."""
    broken = [r for r in rows if r["cause"]]
    healthy = [r for r in rows if not r["cause"]]
    return (
        f"with the kernel's word:    broken {_median([r['median_s'] for r in broken]):.2f} s (target ≤ 1.0 s)"
        f"   healthy {_median([r['median_s'] for r in healthy]):.2f} s (target ≤ 0.6 s)\n"
        f"without it:               broken {_median([r['plain_s'] for r in broken]):.2f} s"
        f"                     healthy {_median([r['plain_s'] for r in healthy]):.2f} s"
    )


def run(args: argparse.Namespace) -> int:
    from vnetdoctor.probes.errors import UsageError
    from vnetdoctor.probes.caps import CAP_NET_ADMIN, has_cap

    if not has_cap(CAP_NET_ADMIN):
        raise UsageError("bench diagnose needs root (it builds the lab in network namespaces)")
    quick = getattr(args, "quick", False)
    # Two benches at once (or a bench and a lab test) must not take each other's lab down.
    prefix = getattr(args, "prefix", None) or PREFIX
    rows = time_scenarios(runs=1 if quick else 4, only=["healthy", "firewall.guest_blocks"] if quick else None,
                          prefix=prefix)
    print(f"{'scenario':<30} {'expected cause':<28} {'first cause':<28} {'median':>7} {'max':>7} "
          f"{'no kernel':>9}  ok")
    for r in rows:
        ok = (r["first"] == r["cause"]) if r["cause"] else (r["first"] is None and r["reachable"])
        print(f"{r['scenario']:<30} {str(r['cause'] or '-'):<28} {str(r['first'] or '-'):<28} "
              f"{r['median_s']:>6.2f}s {r['max_s']:>6.2f}s {r['plain_s']:>8.2f}s  {'yes' if ok else 'NO'}")
    meds = [r["median_s"] for r in rows]
    healthy = next((r["median_s"] for r in rows if r["scenario"] == "healthy"), float("nan"))
    overall = statistics.median(meds) if meds else float("nan")
    print(f"\nmedian over {len(rows)} scenarios: {overall:.2f} s (target ≤ 3 s)   healthy: {healthy:.2f} s (target ≤ 2 s)")
    print(kernel_summary(rows))
    print(lab_summary(rows))
    first, floor = startup_to_first_probe(runs=2 if quick else 5, prefix=prefix)
    print(f"CLI start to first probe: {first:.3f} s (target ≤ 0.5 s); python -c pass: {floor:.3f} s")
    return 0
