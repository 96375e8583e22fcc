"""``nft.trace``: the exact nftables rule that dropped a probe (opt-in: ``--trace-rules``).

The kernel said NETFILTER_DROP; this names the rule. In the namespace where the drop
happened: a listener on the trace group first (``nft -a monitor trace``, run there as
a child process, argv and no shell), then one temporary table,
``vnetdoctor_trace_<pid>``, whose chains at priority -300 (prerouting and output)
set ``meta nftrace`` on the probe's packets alone (its addresses and its unique IP
length); one more probe; the table is deleted in a ``finally``. The trace names
family, table, chain, rule handle and verdict, and prints the rule itself.

It is a change to the ruleset (other listeners and firewalld see it; every packet
crosses one more chain while it exists), hence opt-in, announced, matched to the probe
alone, removed in a ``finally``, and tables of crashed runs (their PID gone) swept
first. iptables-legacy rules are not nftables: their counters tell instead.
"""

from __future__ import annotations

import ipaddress
import os
import re
import subprocess
import time
from collections.abc import Callable

from .base import Observation, row
from .caps import CAP_NET_ADMIN, has_cap
from .kernel_drops_tracefs import pid_alive
from .nsexec import call_in, run_command
from .rowkey import Row, strip_counters
from .vantage import Vantage

PROBE_ID = "nft.trace"
TABLE_PREFIX = "vnetdoctor_trace_"
# trace id 9c1f... inet filter input rule icmp type echo-request counter packets 0 bytes 0 drop # handle 2 (verdict drop)
_RULE = re.compile(r"^trace id (?P<id>\S+) (?P<family>\S+) (?P<table>\S+) (?P<chain>\S+) rule (?P<rule>.*?)"
                   r"(?: # handle (?P<handle>\d+))? \(verdict (?P<verdict>[^)]+)\)\s*$")
# trace id 9c1f... inet filter forward policy drop
_POLICY = re.compile(r"^trace id (?P<id>\S+) (?P<family>\S+) (?P<table>\S+) (?P<chain>\S+) policy (?P<verdict>\S+)")
_TABLES = re.compile(r"^table (\S+) (" + TABLE_PREFIX + r"(\d+))\s*$", re.MULTILINE)
FINAL = ("drop", "reject", "queue")


@row
class NftTraceRow(Row):
    """One verdict nftables traced for the probe: a rule's or a chain policy's.

    Key: where the verdict was given and what it was (the trace id and the handle are
    per run; the rule text, counters stripped, says which rule).
    """

    KEY_FIELDS = ("family", "table", "chain", "rule", "verdict")

    family: str
    table: str
    chain: str
    handle: int | None  # None: the chain's policy
    verdict: str
    rule: str  # the rule as nft lists it, without counters ("" for a policy)
    trace_id: str = ""


def table_name(pid: int | None = None) -> str:
    return f"{TABLE_PREFIX}{os.getpid() if pid is None else pid}"


def parse_monitor(text: str, own_table: str = "") -> list[NftTraceRow]:
    """Verdict lines of ``nft -a monitor trace`` (ours left out: the marking table's own)."""
    rows = []
    for line in text.splitlines():
        m = _RULE.match(line.strip())
        if m is not None:
            handle = int(m.group("handle")) if m.group("handle") else None
            rule = strip_counters(m.group("rule"))
            policy = False
        else:
            m = _POLICY.match(line.strip())
            if m is None:
                continue
            handle, rule, policy = None, "", True
        if m.group("table").startswith(TABLE_PREFIX) or m.group("table") == own_table:
            continue
        rows.append(NftTraceRow(m.group("family"), m.group("table"), m.group("chain"), None if policy else handle,
                                m.group("verdict").strip(), rule, m.group("id")))
    return rows


def final_verdict(rows: list[NftTraceRow]) -> NftTraceRow | None:
    """The verdict that ended the packet (a drop, a reject), if the trace shows one."""
    return next((r for r in rows if r.verdict.split()[0] in FINAL), None)


def sweep(vantage: Vantage) -> list[str]:
    """Delete trace tables whose vnetdoctor run is gone (killed before its ``finally``)."""
    listed = run_command(vantage, ["nft", "list", "tables"])
    removed = []
    for family, name, pid in _TABLES.findall(listed.stdout if listed.ok else ""):
        if int(pid) != os.getpid() and not pid_alive(int(pid)):
            if run_command(vantage, ["nft", "delete", "table", family, name]).ok:
                removed.append(f"{family} {name}")
    return removed


def tables(vantage: Vantage) -> list[str]:
    """vnetdoctor trace tables present in the vantage now (tests: none is left behind)."""
    listed = run_command(vantage, ["nft", "list", "tables"])
    return [f"{family} {name}" for family, name, _ in _TABLES.findall(listed.stdout if listed.ok else "")]


def ruleset(table: str, src: str | None, dst: str, length: int) -> str:
    """The marking table: only packets between these addresses with exactly this IP length."""
    match = " ".join(
        [*([f"ip saddr {ipaddress.IPv4Address(src)}"] if src else []),
         f"ip daddr {ipaddress.IPv4Address(dst)}", f"ip length {int(length)}"]
    )
    back = " ".join(
        [f"ip saddr {ipaddress.IPv4Address(dst)}", *([f"ip daddr {ipaddress.IPv4Address(src)}"] if src else []),
         f"ip length {int(length)}"]
    )
    chains = [
        f"chain pre {{ type filter hook prerouting priority -300; policy accept; {m} meta nftrace set 1; }}"
        for m in (match, back)
    ]
    chains[1] = chains[1].replace("chain pre ", "chain pre_back ")
    outs = [f"chain out {{ type filter hook output priority -300; policy accept; {match} meta nftrace set 1; }}",
            f"chain out_back {{ type filter hook output priority -300; policy accept; {back} meta nftrace set 1; }}"]
    return f"table ip {table} {{\n  " + "\n  ".join([*chains, *outs]) + "\n}\n"


def _nft_stdin(vantage: Vantage, text: str) -> tuple[int, str]:
    def spawn() -> tuple[int, str]:
        proc = subprocess.run(["nft", "-f", "-"], input=text, capture_output=True, text=True, timeout=5,
                              env={**os.environ, "LC_ALL": "C"})
        return proc.returncode, proc.stderr.strip()

    return call_in(vantage, spawn)


def trace_rule(
    vantage: Vantage, src: str | None, dst: str, length: int, send: Callable[[], object], wait: float = 0.3,
) -> Observation:
    """Trace one more probe through the vantage's nftables; its verdicts as rows."""
    started = time.perf_counter()
    table = table_name()
    base = {"probe": PROBE_ID, "vantage": str(vantage), "layer": "network",
            "params": (("dst", dst), ("length", str(length)), ("src", src or ""))}

    def done(**kw: object) -> Observation:
        return Observation(duration_ms=(time.perf_counter() - started) * 1000.0, **base, **kw)  # type: ignore[arg-type]

    if vantage.kind not in ("local", "netns"):
        return done(status="skipped", reason=f"not available on a {vantage.kind} vantage")
    if not has_cap(CAP_NET_ADMIN):
        return done(status="skipped", reason="needs CAP_NET_ADMIN")
    swept = sweep(vantage)
    try:
        monitor = call_in(vantage, subprocess.Popen, ["nft", "-a", "monitor", "trace"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                          env={**os.environ, "LC_ALL": "C"})
    except FileNotFoundError:
        return done(status="skipped", reason="needs the nft command")
    out = err = ""
    try:
        code, why = _nft_stdin(vantage, ruleset(table, src, dst, length))
        if code != 0:
            return done(status="error", reason=f"could not add the trace table: {why.splitlines()[0] if why else code}")
        time.sleep(0.1)  # the listener subscribes to the trace group as it starts
        send()
        time.sleep(wait)
    finally:
        run_command(vantage, ["nft", "delete", "table", "ip", table])
        monitor.terminate()
        try:
            out, err = monitor.communicate(timeout=2)
        except subprocess.TimeoutExpired:
            monitor.kill()
            out, err = monitor.communicate()
    rows = parse_monitor(out, table)
    raw = "\n".join(line for line in out.splitlines() if table not in line)
    if swept:
        raw += f"\n(swept stale trace tables: {', '.join(swept)})"
    return done(rows=tuple(rows), raw=raw.strip() or (err.strip() or "no trace message"))
