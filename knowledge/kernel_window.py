"""The kernel watch around the symptom's pings: probe sizes, the window, the early end.

:func:`.trace.run_trace` opens a :class:`KernelWindow` before its pings and closes
it after; that is the whole hook. The window gives each leg's pings a random ICMP
payload size (so their IP length, the only thing a tracepoint shows of them, is
theirs alone: never 84 or 1028, the sizes other tools and runs use), starts a
``kernel.drops`` watch over the path when the host's kernel is reachable, and ends a
leg's wait for replies as soon as the kernel has reported as many of its packets
dropped as were sent: no reply can come, so the timeout would only cost time.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING

from vnetdoctor.probes.base import Observation
from vnetdoctor.probes.caps import NEED_SETNS, missing_needs
from vnetdoctor.probes.icmp import stop_waiting
from vnetdoctor.probes.kernel_drops import PROBE_ID, KernelDropWatch, guest_kernel_skipped
from vnetdoctor.probes.kernel_drops_parse import DROP, KernelDropRow, ProbeLength
from vnetdoctor.probes.vantage import Vantage

from .path import Path

if TYPE_CHECKING:
    from .context import StepContext

ICMP_OVERHEAD = 28  # IPv4 header + ICMP header: the IP length of a ping is its payload + 28
_AVOID = {84 - ICMP_OVERHEAD, 1028 - ICMP_OVERHEAD}  # ping's and other runs' default sizes


def probe_sizes(n: int, rng: random.Random | None = None) -> list[int]:
    """``n`` distinct ICMP payload sizes in 64..540: within any IPv4 MTU (576), never a default,
    and drawn from enough values that two runs at once rarely share one (their watches would
    then see each other's packets too)."""
    rng = rng or random.Random()
    pool = [s for s in range(64, 541) if s not in _AVOID]
    return rng.sample(pool, n)


class KernelWindow:
    """One watch for both legs; ``sizes`` says which payload size each leg must send."""

    def __init__(self, path: Path, legs: Sequence[tuple[str, Vantage, int, int]], enabled: bool = True) -> None:
        """``legs``: (name, sender, ICMP identifier, count) per leg, forward first."""
        self.sizes = dict(zip((name for name, *_ in legs), probe_sizes(len(legs)), strict=True))
        self._idents = {name: (ident, count) for name, _, ident, count in legs}
        self._drops: dict[str, int] = {}
        self._first_side = {name: _side(path, sender) for name, sender, _, _ in legs}
        self._lock = threading.Lock()
        self.skipped: list[Observation] = []
        self.watch: KernelDropWatch | None = None
        host = path.hops[0].vantage if path.hops else (legs[0][1] if legs else None)
        guest_sides = {h.vantage for h in path.hops if h.side == "guest"}
        for vantage in sorted(guest_sides, key=str):
            if vantage.kind == "libvirt":
                self.skipped.append(guest_kernel_skipped(vantage))
        if not enabled or host is None or host.kind not in ("local", "netns"):
            return
        why = missing_needs({NEED_SETNS}) if host.kind == "netns" else None
        if why:  # the pings cannot enter the namespace either: nothing of ours to follow
            self.skipped.append(Observation(probe=PROBE_ID, vantage=str(host), status="skipped", reason=why,
                                            layer="network"))
            return
        probes = [ProbeLength(self.sizes[name] + ICMP_OVERHEAD, name, self._first_side[name], ident)
                  for name, _, ident, _ in legs]
        order = [(h.side, h.iface) for h in path.hops]
        extra = [(h.side, h.iface) for h in path.extra]
        self.watch = KernelDropWatch(probes, order, extra, vantage=str(host), on_row=self._on_row)

    def open(self) -> None:
        if self.watch is not None:
            self.watch.start()

    def _on_row(self, found: KernelDropRow) -> None:
        """Settle a leg whose every packet the kernel dropped: no reply can come, stop waiting.

        Only a ping's own packets count: their IP length is theirs alone. An ARP request is
        not (another namespace with the same device names sends the same frames), so its
        drop never ends a wait: a wrong word there would turn a healthy leg into a failed one.
        """
        if found.verdict != DROP or found.probe not in self._idents:
            return
        with self._lock:
            self._drops[found.probe] = self._drops.get(found.probe, 0) + 1
            ident, count = self._idents[found.probe]
            done = self._drops[found.probe] >= count
        if done:
            stop_waiting(ident)

    def close(self) -> tuple[Observation, ...]:
        """Remove the instance; what the kernel said (or why it could not), per kernel."""
        observed = (self.watch.stop(linger=0.0),) if self.watch is not None else ()
        return (*observed, *self.skipped)


def _side(path: Path, sender: Vantage) -> str:
    for hop in path.hops:
        if hop.vantage == sender:
            return hop.side
    return "host" if path.from_side == "host" else "guest"


def _watch_for(ctx: StepContext, path: Path, probes: Sequence[ProbeLength],
               on_row: Callable[[KernelDropRow], None]) -> KernelDropWatch | None:
    """A watch over the path for these probe packets, or None where the host's kernel is not ours."""
    if not ctx.request.kernel_drops or not path.hops:
        return None
    host = path.hops[0].vantage
    if host.kind not in ("local", "netns") or (host.kind == "netns" and missing_needs({NEED_SETNS})):
        return None
    return KernelDropWatch(probes, [(h.side, h.iface) for h in path.hops], [(h.side, h.iface) for h in path.extra],
                           vantage=str(host), on_row=on_row)


def watched(ctx: StepContext, path: Path, name: str, sender: Vantage, idents: Mapping[int, int], count: int,
            run: Callable[[], object]) -> Future[Observation | None]:
    """Run a probe in the background with the kernel watching its packets (IP length → ICMP id).

    For a probe whose lost packets cost it a timeout (the path-MTU probe's DF pings): a
    length's wait ends once the kernel has reported its ``count`` packets dropped, and the
    drops are the kernel's word on why they were lost. The future holds the watch's
    observation (skipped with its reason when it could not run; None: nothing watched).
    """
    drops: dict[int, int] = {}
    lock = threading.Lock()

    def on_row(found: KernelDropRow) -> None:
        if found.verdict != DROP or found.probe != name or found.kind != "request":
            return
        with lock:
            drops[found.length] = drops.get(found.length, 0) + 1
            done = drops[found.length] >= count
        if done and found.length in idents:
            stop_waiting(idents[found.length])

    side = _side(path, sender)
    watch = _watch_for(ctx, path, [ProbeLength(n, name, side, i) for n, i in idents.items()], on_row)
    result: Future[Observation | None] = Future()

    def work() -> None:
        try:
            started = watch is not None and watch.start()
            try:
                run()
            finally:
                obs = watch.stop(linger=0.0) if started and watch is not None else (
                    watch.observation() if watch is not None else None)
            result.set_result(obs)
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits for the result
            result.set_exception(exc)

    threading.Thread(target=work, name=f"kernel-{name}", daemon=True).start()
    return result


def confirm(ctx: StepContext, path: Path, name: str, sender: Vantage, length: int, count: int,
            send: Callable[[], object], timeout: float = 0.5) -> None:
    """Another probe's packets after a check's own probe failed, with the kernel watching.

    The symptom's watch follows only its pings; a SYN refused by a closed port (or dropped
    by a firewall) is another protocol, and a connect()'s SYN has the length every SYN has.
    So the TCP check calls this after its connect failed (a healthy walk never pays for it),
    with ``send()`` sending ``count`` packets of IP ``length`` (unique to this run). The wait
    ends as soon as the kernel has reported the end of every one of them; the watch is
    recorded, and its rows join the kernel's word (:func:`.checks_kernel.kernel_rows`) under
    the probe name ``name``.
    """
    seen: list[KernelDropRow] = []
    done = threading.Event()

    def on_row(found: KernelDropRow) -> None:
        if found.probe == name and found.kind == "request":
            seen.append(found)
            if len(seen) >= count:
                done.set()

    watch = _watch_for(ctx, path, [ProbeLength(length, name, _side(path, sender))], on_row)
    if watch is None:
        return
    if not watch.start():
        obs = watch.observation()
    else:
        started = time.perf_counter()
        try:
            send()
            done.wait(max(0.0, timeout - (time.perf_counter() - started)))
        finally:
            obs = watch.stop(linger=0.0)
    ctx.record(obs)
    ctx.optional(obs.probe, obs.vantage)
    ctx.facts.setdefault("kernel_more", []).append(obs)


def confirm_length(low: int, high: int, rng: random.Random | None = None) -> int:
    """A random IP length in ``low..high`` (both included) that is no tool's default."""
    pool = [n for n in range(low, high + 1) if n not in (84, 1028, 1500)]
    return (rng or random.Random()).choice(pool) if pool else high
