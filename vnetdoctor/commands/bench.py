"""``vnetdoctor bench [netlink|diagnose|all] [--quick]``: dispatch to the benchmarks.

The netlink benchmark lives in :mod:`vnetdoctor.bench_netlink`; the end-to-end
diagnosis benchmark in ``vnetdoctor.bench_diagnose``, imported only when asked
for so that one missing benchmark never breaks the other.
"""

from __future__ import annotations

import argparse
import importlib

from vnetdoctor.probes.errors import UsageError


def _bench_module(name: str):
    try:
        return importlib.import_module(f"vnetdoctor.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"vnetdoctor.{name}":
            raise UsageError(
                f"the {name.removeprefix('bench_')} benchmark is not available in this build"
            ) from None
        raise


def run(args: argparse.Namespace) -> int:
    what = getattr(args, "what", "netlink") or "netlink"
    names = {
        "netlink": ["bench_netlink"],
        "diagnose": ["bench_diagnose"],
        "tui": ["bench_tui"],
        "records": ["bench_records"],
        "all": ["bench_netlink", "bench_diagnose", "bench_tui", "bench_records"],
    }[what]
    modules = [_bench_module(name) for name in names]  # fail before any work when one is missing
    status = 0
    for module in modules:
        status = max(status, int(module.run(args) or 0))
    return status
