"""Ping from inside a libvirt guest: ``guest-exec`` of the guest's own ``ping``, its output parsed.

A guest has no network namespace here, so the raw-socket ping of :mod:`.icmp`
cannot run there; the qemu-guest-agent can run the guest's ``ping`` instead.
The rows are the same :class:`EchoRow` the raw ping gives, so "Ping both ways"
is both ways for libvirt guests too.

iputils ``ping -e ID`` keeps our ICMP identifier, so the path capture can follow
the guest's requests; busybox ping has no ``-e`` and is run without it: its rows
then carry identifier 0 and the capture cannot tell its packets (the trace says
so instead of claiming they were never seen). Windows ``ping -n`` is parsed too.
"""

from __future__ import annotations

import re

from .base import Skip
from .nsexec import CommandResult, run_command
from .rows_active import EchoRow
from .vantage import Vantage
from .vocabulary import EchoFailure

# iputils / busybox: "64 bytes from 198.18.0.1: icmp_seq=1 ttl=64 time=0.123 ms" ("seq=0" on busybox)
_REPLY = re.compile(r"bytes from ([0-9.]+):.*?(icmp_seq|seq)=(\d+).*?time[=<]([0-9.]+)\s*ms")
# iputils: "From 198.18.0.5 icmp_seq=1 Destination Host Unreachable"
_ERROR = re.compile(r"^From ([0-9.]+)(?: \([0-9.]+\))?:? icmp_seq=(\d+) (.+)$", re.MULTILINE)
# Windows: "Reply from 198.18.0.1: bytes=32 time<1ms TTL=128", "Request timed out."
_WIN_REPLY = re.compile(r"Reply from ([0-9.]+): bytes=\d+ time[=<](\d+)ms")
_SEND_FAILED = re.compile(r"(?:sendmsg|sendto): (.+)$", re.MULTILINE)

# What kind of ICMP error each of ping's fixed words names (iputils' pr_icmph, Windows'
# messages; :mod:`.icmp`'s own words match too, which is how records made before rows
# said it are read, see vnetdoctor/convert.py), first match wins: the row's ``failure``,
# which the rules read instead of the words. Words not listed (a redirect) name none.
_FAILURES: tuple[tuple[re.Pattern[str], EchoFailure], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), failure)
    for pattern, failure in (
        (r"frag(mentation)? needed", EchoFailure.TOO_BIG),  # type 3 code 4
        (r"exceeded|ttl expired", EchoFailure.TIME_EXCEEDED),  # type 11
        (r"parameter problem", EchoFailure.PARAMETER_PROBLEM),  # type 12
        # type 3, every other code: unreachable, unknown, isolated, prohibited, filtered, precedence
        (r"unreachable|unknown|isolated|prohibited|packet filtered|precedence|source route failed",
         EchoFailure.UNREACHABLE),
    )
)


def failure_of(words: str) -> EchoFailure:
    """The kind of ICMP error ``words`` (ping's, for one request) name; NONE when they name none."""
    return next((failure for pattern, failure in _FAILURES if pattern.search(words)), EchoFailure.NONE)


def ping_argv(dst: str, count: int, size: int, timeout: float, ident: int | None, *, windows: bool = False,
              with_ident: bool = True) -> list[str]:
    if windows:
        return ["ping", "-n", str(count), "-l", str(size), "-w", str(int(timeout * 1000)), dst]
    deadline = max(1, int(count + timeout + 0.999))
    argv = ["ping", "-n", "-c", str(count), "-s", str(size), "-w", str(deadline)]
    if with_ident and ident is not None:
        argv += ["-e", str(ident)]
    return [*argv, dst]


def parse_ping(output: str, dst: str, count: int, size: int, ident: int, *, windows: bool = False) -> list[EchoRow]:
    """One row per request sent, from what ``ping`` printed (no reply: ``rtt_ms`` None)."""
    rows: dict[int, EchoRow] = {}
    if windows:
        seq = 0
        for line in output.splitlines():
            m = _WIN_REPLY.search(line)
            if m or "timed out" in line or "unreachable" in line.lower():
                seq += 1
                if m:
                    rows[seq] = EchoRow(dst, seq, ident, size, False, float(m.group(2)), reply_from=m.group(1))
                elif "unreachable" in line.lower():
                    rows[seq] = EchoRow(dst, seq, ident, size, False, None, error=line.strip().rstrip("."),
                                        failure=EchoFailure.UNREACHABLE)
        return [rows.get(s) or EchoRow(dst, s, ident, size, False, None) for s in range(1, count + 1)]
    busybox = "seq=0" in output and "icmp_seq" not in output
    for m in _REPLY.finditer(output):
        seq = int(m.group(3)) + (1 if busybox else 0)
        rows.setdefault(seq, EchoRow(dst, seq, ident, size, False, float(m.group(4)), reply_from=m.group(1)))
    for m in _ERROR.finditer(output):
        seq = int(m.group(2))
        rows.setdefault(seq, EchoRow(dst, seq, ident, size, False, None, reply_from=m.group(1),
                                     error=f"{m.group(3).strip().lower()} from {m.group(1)}",
                                     failure=failure_of(m.group(3))))
    sent = _SEND_FAILED.search(output)
    out = []
    for seq in range(1, count + 1):
        row = rows.get(seq)
        if row is None and sent is not None:
            row = EchoRow(dst, seq, ident, size, False, None, error=sent.group(1).strip(),
                          failure=EchoFailure.NOT_SENT)
        out.append(row or EchoRow(dst, seq, ident, size, False, None))
    return out


def _usage_error(res: CommandResult) -> bool:
    text = (res.stdout + res.stderr).lower()
    return res.returncode in (1, 2) and ("invalid option" in text or "unrecognized option" in text
                                         or "usage" in text)


def guest_ping(vantage: Vantage, dst: str, *, count: int = 3, size: int = 56, timeout: float = 1.0,
               ident: int | None = None, windows: bool = False) -> tuple[list[EchoRow], str]:
    """Ping ``dst`` from inside the guest through its agent: (rows, raw output)."""
    argv = ping_argv(dst, count, size, timeout, ident, windows=windows)
    budget = count + timeout + 5.0
    res = run_command(vantage, argv, timeout=budget)
    used = ident if ident is not None and "-e" in argv else 0
    if not windows and "-e" in argv and _usage_error(res):
        argv = ping_argv(dst, count, size, timeout, ident, with_ident=False)
        res = run_command(vantage, argv, timeout=budget)
        used = 0
    if res.returncode in (126, 127):
        raise Skip(res.stderr.strip().splitlines()[0] if res.stderr.strip() else f"cannot run ping in {vantage}")
    rows = parse_ping(res.stdout + "\n" + res.stderr, dst, count, size, used, windows=windows)
    raw = f"$ {' '.join(argv)}  (in {vantage}, exit {res.returncode})\n{res.stdout}{res.stderr}"
    return rows, raw
