"""``vnetdoctor bench netlink``: are the read-only probes as fast as iproute2 on a big host?

A hypervisor with a full BGP table or thousands of taps must not make the
assistant sluggish, so the probes are measured against the tool operators would
otherwise run. One network namespace (``vnd-bench-<pid>``) is filled with
100,000 routes, 2,000 interfaces (veth pairs: this kernel has no ``dummy``) and
10,000 neighbours using ``ip -batch``; then, median of several runs each:

- ``route.lookup`` for one destination  vs ``ip -j route get``   target <= 5 ms
- ``link.list`` (whole link dump)       vs ``ip -j link``         target <= 2x
- ``route.list`` (every table, v4+v6)   vs ``ip -j route``        target <= 3x

plus the peak RSS of one full route dump, ours and iproute2's, each measured in a
process of its own. Our figures are in-process (the assistant is long-running);
iproute2's include starting ``ip``, which is what an operator pays too.

The namespace is deleted at the end, also on errors, Ctrl-C and SIGTERM.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from ipaddress import IPv4Address

from vnetdoctor.probes.errors import UsageError
from vnetdoctor.probes.caps import CAP_NET_ADMIN, CAP_SYS_ADMIN, cap_name, has_cap
from vnetdoctor.probes.vantage import Vantage

PREFIX = "vnd-bench-"

# Addresses: only the benchmarking range 198.18.0.0/15.
_LINK_NET = "198.18.0.1/24"  # on the first veth; the gateway lives there
_GATEWAY = "198.18.0.2"
_FIRST_ROUTE = IPv4Address("198.18.1.0")  # 100,000 /32s end at 198.19.135.159
_FIRST_NEIGH = IPv4Address("198.19.160.0")  # 10,000 neighbours end at 198.19.199.15

LOOKUP_TARGET_MS = 5.0
LINK_TARGET_RATIO = 2.0
ROUTE_TARGET_RATIO = 3.0


@dataclass(frozen=True)
class Sizes:
    routes: int
    links: int
    neighbours: int
    runs: int  # runs per dump measurement (the median is reported)
    lookup_runs: int


FULL = Sizes(routes=100_000, links=2_000, neighbours=10_000, runs=5, lookup_runs=200)
QUICK = Sizes(routes=2_000, links=100, neighbours=200, runs=3, lookup_runs=20)


@dataclass(frozen=True)
class Figure:
    """One line of the result table."""

    what: str
    ours: float | None
    theirs: float | None
    unit: str
    target: str = ""
    verdict: str = ""
    note: str = ""


def require_root() -> None:
    for cap in (CAP_NET_ADMIN, CAP_SYS_ADMIN):
        if not has_cap(cap):
            raise UsageError(
                "bench netlink builds a network namespace and needs root "
                f"({cap_name(cap)} is missing)"
            )


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        ["ip", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "LC_ALL": "C"},
        check=False,
    )
    if check and proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        why = lines[-1] if lines else f"exit {proc.returncode}"
        raise RuntimeError(f"ip {' '.join(args[:6])}: {why}")
    return proc


def _batch(ns: str, lines: Sequence[str]) -> None:
    with tempfile.NamedTemporaryFile("w", prefix="vnd-bench-", suffix=".batch") as fh:
        fh.write("\n".join(lines) + "\n")
        fh.flush()
        _ip("-n", ns, "-batch", fh.name)


def build(ns: str, sizes: Sizes) -> None:
    """Create the namespace's links, routes and neighbours with a few ``ip -batch`` runs."""
    pairs = max(1, sizes.links // 2)
    links = []
    for i in range(pairs):
        links.append(f"link add vb{i}a type veth peer name vb{i}b")
    _batch(ns, links)
    _batch(
        ns,
        [
            "link set lo up",
            "link set vb0a up",
            "link set vb0b up",
            f"addr add {_LINK_NET} dev vb0a",
        ],
    )
    start = int(_FIRST_ROUTE)
    _batch(
        ns,
        [
            f"route add {IPv4Address(start + i)}/32 via {_GATEWAY} dev vb0a"
            for i in range(sizes.routes)
        ],
    )
    first = int(_FIRST_NEIGH)
    _batch(
        ns,
        [
            f"neigh add {IPv4Address(first + i)} lladdr {_mac(i)} dev vb0a nud permanent"
            for i in range(sizes.neighbours)
        ],
    )


def _mac(i: int) -> str:
    """A locally administered MAC (02:...) per neighbour."""
    return "02:00:" + ":".join(f"{(i >> shift) & 0xFF:02x}" for shift in (24, 16, 8, 0))


@contextmanager
def bench_namespace(sizes: Sizes) -> Iterator[tuple[str, float]]:
    """Yield (namespace name, seconds it took to build); delete it whatever happens."""
    ns = f"{PREFIX}{os.getpid()}"
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    if _is_main_thread():
        signal.signal(signal.SIGTERM, on_term)
    try:
        try:
            _ip("netns", "add", ns)
            started = time.perf_counter()
            build(ns, sizes)
            yield ns, time.perf_counter() - started
        finally:
            # Also after an interrupted "ip netns add": deleting what is not there is harmless.
            _delete_namespace(ns)
    finally:
        if _is_main_thread():
            signal.signal(signal.SIGTERM, previous)


def _delete_namespace(ns: str) -> None:
    """Delete the namespace, even if a second Ctrl-C arrives while we do."""
    for _attempt in range(3):
        try:
            _ip("netns", "del", ns, check=False)
            return
        except KeyboardInterrupt:
            continue


def _is_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000.0)
    return statistics.median(times)


def _run_child(argv: Sequence[str]) -> tuple[float, str]:
    """(wall ms, stdout) of one child process."""
    started = time.perf_counter()
    proc = subprocess.run(
        list(argv), capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False
    )
    elapsed = (time.perf_counter() - started) * 1000.0
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv[:6])} exited {proc.returncode}: {proc.stderr.strip()[-200:]}"
        )
    return elapsed, proc.stdout


def peak_rss_kib(argv: Sequence[str]) -> tuple[int, str]:
    """Peak RSS of a command, and how it was measured.

    Not ``wait4``'s ``ru_maxrss``: Linux carries a process's high-water mark
    across ``execve``, so a child spawned from this (big) Python process reports
    at least our own RSS. GNU time forks from a small process of its own, so its
    ``%M`` is the command's. Without it, VmHWM (which belongs to the mm the
    command got at exec) is sampled until the command exits.
    """
    gnu_time = shutil.which("time") or (
        "/usr/bin/time" if os.path.exists("/usr/bin/time") else None
    )
    if gnu_time:
        with tempfile.NamedTemporaryFile("r", prefix="vnd-bench-", suffix=".rss") as out:
            proc = subprocess.run(
                [gnu_time, "-f", "%M", "-o", out.name, *argv],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL,
                check=False,
            )
            text = out.read().strip().splitlines()
        if proc.returncode == 0 and text and text[-1].isdigit():
            return int(text[-1]), "GNU time %M"
    return _sampled_hwm(argv), "VmHWM sampled every ms"


def _sampled_hwm(argv: Sequence[str]) -> int:
    proc = subprocess.Popen(
        list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL
    )
    peak = 0
    path = f"/proc/{proc.pid}/status"
    while proc.poll() is None:
        try:
            with open(path, encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
        except (OSError, ValueError):
            pass
        time.sleep(0.001)
    return peak


def _ip_median_ms(ns: str, args: Sequence[str], runs: int) -> tuple[float, str]:
    times = []
    text = ""
    for _ in range(runs):
        elapsed, text = _run_child(["ip", "-n", ns, *args])
        times.append(elapsed)
    return statistics.median(times), text


_RSS_CHILD = """
import json, sys
from vnetdoctor.probes.base import run_probe
from vnetdoctor.probes.vantage import Vantage

def hwm():
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))

v = Vantage("netns", sys.argv[1])
run_probe("route.lookup", v, dst="198.18.0.2")  # imports and warms up everything but the dump
before = hwm()
obs = run_probe("route.list", v)
after = hwm()
print(json.dumps({"before": before, "after": after, "rows": len(obs.rows), "status": obs.status}))
"""


def measure(ns: str, sizes: Sizes) -> list[Figure]:
    from vnetdoctor.probes.base import run_probe

    vantage = Vantage("netns", ns)
    figures: list[Figure] = []
    target = str(IPv4Address(int(_FIRST_ROUTE) + sizes.routes // 2))

    lookup = run_probe("route.lookup", vantage, dst=target)
    _expect_ok(lookup, "route.lookup")
    if lookup.rows[0].gateway != _GATEWAY:
        raise RuntimeError(f"route.lookup {target} gave {lookup.rows[0]}, expected via {_GATEWAY}")
    ours = _median_ms(lambda: run_probe("route.lookup", vantage, dst=target), sizes.lookup_runs)
    theirs, _ = _ip_median_ms(ns, ["-j", "route", "get", target], max(5, sizes.runs))
    figures.append(
        Figure(
            "route lookup",
            ours,
            theirs,
            "ms",
            f"<= {LOOKUP_TARGET_MS:g} ms",
            _verdict(ours <= LOOKUP_TARGET_MS),
            f"{sizes.routes:,} routes in the table",
        )
    )

    links = run_probe("link.list", vantage)
    _expect_ok(links, "link.list")
    ours = _median_ms(lambda: _expect_ok(run_probe("link.list", vantage), "link.list"), sizes.runs)
    theirs, text = _ip_median_ms(ns, ["-j", "link"], sizes.runs)
    ip_links = len(json.loads(text))
    figures.append(
        Figure(
            "link dump",
            ours,
            theirs,
            "ms",
            f"<= {LINK_TARGET_RATIO:g}x ip",
            _verdict(ours <= LINK_TARGET_RATIO * theirs),
            f"{len(links.rows):,} rows, ip lists {ip_links:,}; "
            "ours adds the ethtool driver of each",
        )
    )

    routes = run_probe("route.list", vantage)
    _expect_ok(routes, "route.list")
    ours = _median_ms(
        lambda: _expect_ok(run_probe("route.list", vantage), "route.list"), sizes.runs
    )
    theirs, text = _ip_median_ms(ns, ["-j", "route"], sizes.runs)
    ip_routes = len(json.loads(text))
    main_v4 = sum(1 for r in routes.rows if r.table == "main" and r.family == "inet")
    if main_v4 != ip_routes:
        raise RuntimeError(
            f"route.list found {main_v4} IPv4 routes in table main, ip -j route {ip_routes}"
        )
    figures.append(
        Figure(
            "route dump",
            ours,
            theirs,
            "ms",
            f"<= {ROUTE_TARGET_RATIO:g}x ip",
            _verdict(ours <= ROUTE_TARGET_RATIO * theirs),
            f"{len(routes.rows):,} rows (all tables, v4+v6), "
            f"ip -j route lists {ip_routes:,} (main, v4)",
        )
    )

    neigh = run_probe("neigh.list", vantage)
    _expect_ok(neigh, "neigh.list")
    ours = _median_ms(lambda: run_probe("neigh.list", vantage), sizes.runs)
    theirs, text = _ip_median_ms(ns, ["-j", "neigh", "show", "nud", "all"], sizes.runs)
    figures.append(
        Figure(
            "neighbour dump",
            ours,
            theirs,
            "ms",
            "",
            "",
            f"{len(neigh.rows):,} rows, ip lists {len(json.loads(text)):,}",
        )
    )

    _elapsed, out = _run_child([sys.executable, "-c", _RSS_CHILD, ns])
    info = json.loads(out.strip().splitlines()[-1])
    if info["status"] != "ok":
        raise RuntimeError(f"route.list in the RSS child: {info['status']}")
    ip_peak, how = peak_rss_kib(["ip", "-n", ns, "-j", "route"])
    figures.append(
        Figure(
            "peak RSS, route dump",
            info["after"] / 1024.0,
            ip_peak / 1024.0,
            "MiB",
            "",
            "",
            f"ours: VmHWM of a fresh process, {info['before'] / 1024.0:.1f} MiB before the dump "
            f"(Python + probes), "
            f"+{max(0, info['after'] - info['before']) / 1024.0:.1f} MiB for it; "
            f"ip: {how}",
        )
    )
    return figures


def _expect_ok(obs: object, name: str) -> object:
    status = getattr(obs, "status", "")
    if status != "ok":
        raise RuntimeError(f"{name} did not run: {status} {getattr(obs, 'reason', '')}")
    return obs


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "ms":
        return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"
    return f"{value:.1f} {unit}"


def render(figures: Sequence[Figure], sizes: Sizes, ns: str, build_s: float) -> str:
    header = (
        f"vnetdoctor bench netlink: namespace {ns} with {sizes.routes:,} routes, "
        f"{sizes.links:,} interfaces, {sizes.neighbours:,} neighbours (built in {build_s:.1f} s); "
        f"median of {sizes.runs} runs ({sizes.lookup_runs} for the lookup)"
    )
    cols = ("measure", "vnetdoctor", "iproute2", "ratio", "target", "result")
    table = [cols]
    notes = []
    for f in figures:
        ratio = f"{f.ours / f.theirs:.2f}x" if f.ours is not None and f.theirs else "-"
        table.append(
            (
                f.what,
                _fmt(f.ours, f.unit),
                _fmt(f.theirs, f.unit),
                ratio,
                f.target or "-",
                f.verdict or "-",
            )
        )
        if f.note:
            notes.append(f"  {f.what}: {f.note}")
    widths = [max(len(row[i]) for row in table) for i in range(len(cols))]
    lines = [header, ""]
    for n, row in enumerate(table):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines += ["", *notes]
    return "\n".join(lines)


def run(args: object) -> int:
    """Entry point from ``vnetdoctor bench netlink [--quick]``."""
    require_root()
    sizes = QUICK if getattr(args, "quick", False) else FULL
    print(
        f"building namespace: {sizes.routes:,} routes, {sizes.links:,} interfaces, "
        f"{sizes.neighbours:,} neighbours ...",
        file=sys.stderr,
        flush=True,
    )
    with bench_namespace(sizes) as (ns, build_s):
        figures = measure(ns, sizes)
    print(render(figures, sizes, ns, build_s))
    return 0
