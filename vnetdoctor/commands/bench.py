"""``vnetdoctor bench [netlink|diagnose|all] [--quick]``: dispatch to the benchmarks.

The netlink benchmark lives in :mod:`vnetdoctor.bench_netlink`; the end-to-end
diagnosis benchmark in ``vnetdoctor.bench_diagnose``, the TUI's in
``vnetdoctor.bench_tui``; each is imported only when asked for.
"""

from __future__ import annotations

import argparse
import importlib


def run(args: argparse.Namespace) -> int:
    what = getattr(args, "what", "netlink") or "netlink"
    names = {
        "netlink": ["bench_netlink"],
        "diagnose": ["bench_diagnose"],
        "tui": ["bench_tui"],
        "records": ["bench_records"],
        "all": ["bench_netlink", "bench_diagnose", "bench_tui", "bench_records"],
    }[what]
    # imported only when asked for: each pulls in what it measures (Textual, pyroute2)
    modules = [importlib.import_module(f"vnetdoctor.{name}") for name in names]
    status = 0
    for module in modules:
        status = max(status, int(module.run(args) or 0))
    return status
