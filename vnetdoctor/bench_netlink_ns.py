"""The ground under ``vnetdoctor bench netlink``: a big namespace, and timing other processes.

One network namespace (``vnd-bench-<pid>``) is filled with 100,000 routes, 2,000
interfaces (veth pairs: this kernel has no ``dummy``) and 10,000 neighbours using
``ip -batch``, from the benchmarking range 198.18.0.0/15 only; it is deleted at
the end, also on errors, Ctrl-C and SIGTERM. The helpers below it time a child
process (iproute2, or a fresh Python for the start-up and memory figures) the way
an operator would pay for it: from spawning it to its exit.
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from ipaddress import IPv4Address

from vnetdoctor.probes.caps import CAP_NET_ADMIN, CAP_SYS_ADMIN, cap_name, has_cap
from vnetdoctor.probes.errors import UsageError

PREFIX = "vnd-bench-"

# Addresses: only the benchmarking range 198.18.0.0/15.
LINK_NET = "198.18.0.1/24"  # on the first veth; the gateway lives there
GATEWAY = "198.18.0.2"
FIRST_ROUTE = IPv4Address("198.18.1.0")  # 100,000 /32s end at 198.19.135.159
FIRST_NEIGH = IPv4Address("198.19.160.0")  # 10,000 neighbours end at 198.19.199.15

@dataclass(frozen=True)
class Sizes:
    routes: int
    links: int
    neighbours: int
    runs: int  # runs per dump measurement (the median is reported)
    lookup_runs: int


FULL = Sizes(routes=100_000, links=2_000, neighbours=10_000, runs=5, lookup_runs=200)
QUICK = Sizes(routes=2_000, links=100, neighbours=200, runs=3, lookup_runs=20)


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
            f"addr add {LINK_NET} dev vb0a",
        ],
    )
    start = int(FIRST_ROUTE)
    _batch(
        ns,
        [
            f"route add {IPv4Address(start + i)}/32 via {GATEWAY} dev vb0a"
            for i in range(sizes.routes)
        ],
    )
    first = int(FIRST_NEIGH)
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


def run_child(argv: Sequence[str]) -> tuple[float, str]:
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


def ip_median_ms(ns: str, args: Sequence[str], runs: int) -> tuple[float, str]:
    times = []
    text = ""
    for _ in range(runs):
        elapsed, text = run_child(["ip", "-n", ns, *args])
        times.append(elapsed)
    return statistics.median(times), text


def first_probe_ms(argv: Sequence[str]) -> float:
    """Milliseconds from spawning ``argv`` to the engine's first probe (VNETDOCTOR_TIMING=1).

    The child is stopped once it has said so (it is ours: the Popen below). It may
    write its bytecode cache, as any run on an operator's machine does: without
    that (PYTHONDONTWRITEBYTECODE in a sandbox, say) every run would compile the
    whole program again and the figure would describe no real start.
    """
    env = {**os.environ, "VNETDOCTOR_TIMING": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.time()
    proc = subprocess.Popen(
        list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.startswith("vnetdoctor-timing first-probe"):
                return (float(line.split()[-1]) - started) * 1000.0
        raise RuntimeError(f"{' '.join(argv[:4])} exited {proc.wait()} before any probe")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
