"""``kernel.drops``: the kernel's own word on each probe packet — dropped where and why.

Captures on every hop say where a probe packet was last seen; ``skb:kfree_skb``
says why it vanished (``NETFILTER_DROP`` in ``nft_do_chain``) and ``consume_skb``
that it ended normally (an echo request answered, or ignored, in ``icmp_rcv``).
:class:`KernelDropWatch` runs alongside the pings of the symptom step, in a tracefs
instance of its own (:mod:`.kernel_drops_tracefs`), and follows each probe packet by
its unique IP length (:mod:`.kernel_drops_parse`). Tracepoints are the kernel's, not a
namespace's: one watch covers every namespace of the host, and a libvirt guest's
own kernel is out of its reach (the guest agent cannot run a tracer for us).

Cost (kernel-evidence.md): the wide set of events (device events, consumes) is on
only for the probe window; benign drops (ping sockets, route lookups, socket
teardown) and every protocol but IPv4 and ARP are filtered in the kernel.
"""

from __future__ import annotations

import os
import re
import threading
import time
from typing import Any
from collections.abc import Callable, Iterable, Sequence

from .base import Observation, ProbeOutput, Skip, probe
from .kernel_drops_parse import (
    ARP_LENGTHS,
    DEVICE_EVENTS,
    ETH_HLEN,
    ETH_P_ARP,
    ETH_P_IP,
    Follower,
    KernelDropRow,
    ProbeLength,
    parse_line,
)
from .kernel_drops_tracefs import Instance
from .vantage import Vantage

PROBE_ID = "kernel.drops"
# Drops every ping and route lookup causes by design (kernel-evidence.md), and socket teardown.
BENIGN = ("ping_rcv", "inet_rtm_getroute", "skb_queue_purge_reason", "inet_sock_destruct")
POLL_S = 0.005
DRAIN_S = 0.3  # after the window, how long the reader may still empty the buffer
RAW_LIMIT = 400  # lines of raw evidence kept: the probe packets' own events, then nothing more


def drop_filter() -> str:
    """The in-kernel filter of ``kfree_skb``: IPv4 and ARP only, benign drops left out."""
    benign = " && ".join(f"location.function != {name}" for name in BENIGN)
    return f"(protocol == {ETH_P_IP} || protocol == {ETH_P_ARP}) && {benign}"


def length_filter(lengths: Sequence[int]) -> str:
    """The in-kernel filter of the device events: our probes' lengths (with and without Ethernet)."""
    wanted = sorted({n for length in lengths for n in (length, length + ETH_HLEN)} | set(ARP_LENGTHS))
    return " || ".join(f"len == {n}" for n in wanted)


def events_for(lengths: Sequence[int]) -> list[tuple[str, str]]:
    return [
        ("skb/kfree_skb", drop_filter()),
        ("skb/consume_skb", ""),
        *((f"net/{name}", length_filter(lengths)) for name in DEVICE_EVENTS),
    ]


_PICKED = tuple(f" {name}: ".encode() for name in ("kfree_skb", *DEVICE_EVENTS))
_CONSUME = b" consume_skb: skbaddr="
_SKBADDR = re.compile(rb"skbaddr=([0-9a-f]+)")


def pick(chunk: bytes, open_buffers: Iterable[str]) -> list[bytes]:
    """The lines of ``chunk`` that can matter, in order: every drop and device event (both
    filtered in the kernel, so few), and the consume events of buffers that are ours.

    Under load nearly every line is a ``consume_skb`` of some other buffer: hundreds of
    thousands a second in a ping flood. Looking for our few buffer addresses with
    ``bytes.find`` instead of reading each line in Python is what keeps the reader from
    taking a core from the traffic it watches.
    """
    starts: set[int] = set()
    for needle in _PICKED:
        at = chunk.find(needle)
        while at >= 0:
            starts.add(chunk.rfind(b"\n", 0, at) + 1)
            at = chunk.find(needle, at + len(needle))
    ours = {a.encode() for a in open_buffers}
    for start in starts:  # buffers this chunk opens may end in it too
        m = _SKBADDR.search(chunk, start, chunk.find(b"\n", start))
        if m is not None:
            ours.add(m.group(1))
    for addr in ours:
        needle = _CONSUME + addr
        at = chunk.find(needle)
        while at >= 0:
            starts.add(chunk.rfind(b"\n", 0, at) + 1)
            at = chunk.find(needle, at + len(needle))
    out = []
    for start in sorted(starts):
        end = chunk.find(b"\n", start)
        out.append(chunk[start:end if end >= 0 else len(chunk)])
    return out


class KernelDropWatch:
    """A tracefs instance following our probe packets while they are in flight.

    ``start`` before the probes are sent, ``stop`` after (it always removes the
    instance); ``on_row`` is called from the reader thread with each packet's end as
    the kernel reports it, so a caller can stop waiting for a probe the kernel has
    already dropped.
    """

    def __init__(
        self,
        probes: Sequence[ProbeLength],
        path: Sequence[tuple[str, str]] = (),
        extra: Sequence[tuple[str, str]] = (),
        *,
        vantage: str = "local",
        on_row: Callable[[KernelDropRow], None] | None = None,
    ) -> None:
        self.probes = tuple(probes)
        self.vantage = vantage
        self.follower = Follower(self.probes, path, extra)
        self.on_row = on_row
        self.raw: list[str] = []
        self.skipped = ""
        self.missing: list[str] = []
        self._instance: Instance | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._removing: threading.Thread | None = None
        self._lock = threading.Lock()
        self._started = 0.0
        self.instance_name = ""

    def start(self) -> bool:
        """Create the instance and start reading; False (``skipped`` says why) when it cannot."""
        self._started = time.perf_counter()
        try:
            inst = Instance()
            inst.create()
        except Skip as exc:
            self.skipped = str(exc)
            return False
        except OSError as exc:
            self.skipped = f"tracefs: {exc.strerror or exc}"
            return False
        self._instance = inst
        self.instance_name = inst.name
        try:
            self.missing = inst.enable(events_for([p.length for p in self.probes]))
            if "skb/kfree_skb" in self.missing:
                raise Skip("the kernel has no skb:kfree_skb tracepoint")
            pipe = inst.open_pipe()
        except (Skip, OSError) as exc:
            self.skipped = str(exc) if isinstance(exc, Skip) else f"tracefs: {exc.strerror or exc}"
            inst.remove()
            self._instance = None
            return False
        self._thread = threading.Thread(target=self._read, args=(pipe,), name="kernel-drops", daemon=True)
        self._thread.start()
        return True

    def _read(self, pipe: int) -> None:
        partial = b""
        drain_until = 0.0
        while True:
            stopping = self._stop.is_set()
            if stopping and not drain_until:
                drain_until = time.perf_counter() + DRAIN_S
            try:
                chunk = os.read(pipe, 1 << 16)
            except BlockingIOError:
                chunk = b""
            except OSError:
                return
            if chunk:
                partial = self._lines(partial + chunk)
            if stopping and (not chunk or time.perf_counter() > drain_until):
                return  # drained, or a flood keeps it full: what arrived in the window is read
            if not chunk:
                # Polled, not woken: a waiter on trace_pipe makes the kernel queue a wake-up
                # per event, which a flood pays for; 5 ms is nothing next to a ping's timeout.
                self._stop.wait(POLL_S)

    def _lines(self, data: bytes) -> bytes:
        cut = data.rfind(b"\n") + 1
        for raw in pick(data[:cut], self.follower.open_buffers()):
            line = raw.decode("utf-8", "replace")
            event = parse_line(line)
            if event is None:
                continue
            with self._lock:
                tracked = event.skb in self.follower.open_buffers()
                rows = self.follower.feed([event])
                if (tracked or rows or event.event in DEVICE_EVENTS) and len(self.raw) < RAW_LIMIT:
                    self.raw.append(line.strip())
            for found in rows:
                if self.on_row is not None:
                    self.on_row(found)
        return data[cut:]

    def rows(self) -> tuple[KernelDropRow, ...]:
        with self._lock:
            return tuple(self.follower.rows)

    def stop(self, linger: float = 0.05) -> Observation:
        """Let the last events arrive, remove the instance, and say what the kernel reported.

        The removal (an ``rmdir`` that turns the events off: 40-60 ms here) runs in a thread
        of its own so the walk goes on; not a daemon, so the process waits for it at exit.
        """
        try:
            if self._thread is not None:
                time.sleep(linger)
                self._stop.set()
                self._thread.join(timeout=2.0)
        finally:
            inst, self._instance = self._instance, None
            if inst is not None:
                self._removing = threading.Thread(target=self._remove, args=(inst,), name="tracefs-remove")
                self._removing.start()
        return self.observation()

    def _remove(self, inst: Instance) -> None:
        try:
            inst.remove()
        except OSError:
            pass  # the next run's sweep removes it (its PID will be gone by then)

    def wait_removed(self, timeout: float = 5.0) -> None:
        """For tests and callers that must see the instance gone before going on."""
        if self._removing is not None:
            self._removing.join(timeout)

    def observation(self) -> Observation:
        base: dict[str, Any] = {"probe": PROBE_ID, "vantage": self.vantage, "layer": "network",
                "duration_ms": (time.perf_counter() - self._started) * 1000.0,
                "params": (("lengths", ",".join(str(p.length) for p in self.probes)),)}
        if self.skipped and not self.rows():
            return Observation(status="skipped", reason=self.skipped, **base)
        missing = f"; tracepoints missing: {', '.join(self.missing)}" if self.missing else ""
        return Observation(rows=self.rows(), raw="\n".join(self.raw) + missing, **base)


def guest_kernel_skipped(vantage: Vantage) -> Observation:
    """A libvirt guest runs its own kernel: our tracefs does not see it (said, not pretended)."""
    return Observation(
        probe=PROBE_ID, vantage=str(vantage), status="skipped", layer="network",
        reason="the guest's own kernel is out of reach (tracing it would need a tracer run in the guest)",
    )


@probe(PROBE_ID, layer="network", title="kernel drop reasons (tracefs)")
def kernel_drops(vantage: Vantage, lengths: str = "", seconds: float = 1.0) -> ProbeOutput:
    """Watch for ``seconds`` for packets of these IP lengths (comma-separated) and their end."""
    wanted = [int(n) for n in str(lengths).split(",") if n.strip()]
    if not wanted:
        raise Skip("no probe length to follow")
    watch = KernelDropWatch([ProbeLength(n, f"len{n}", "") for n in wanted], vantage=str(vantage))
    if not watch.start():
        raise Skip(watch.skipped)
    time.sleep(max(0.0, float(seconds)))
    obs = watch.stop(linger=0.0)
    return ProbeOutput(rows=obs.rows, raw=obs.raw)
