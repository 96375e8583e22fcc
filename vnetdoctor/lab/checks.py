"""What a scenario breaks, stated as checks anyone can re-run with ordinary tools.

A :class:`Check` reads like the tuple the tests and the engine compare against:
``Check("ping", "vnd-host", "198.18.0.11", False)`` means "from namespace vnd-host,
a ping to 198.18.0.11 fails while the fault is injected". After a revert every
check of the scenario (and every healthy check of its topology) must pass.

:func:`run_check` verifies a check with tools that are *not* vnetdoctor's: iputils
``ping`` (``-M do -s 1400`` for the MTU check), a plain ``socket.create_connection``
and the C library's resolver (``getaddrinfo``), each started with
``ip netns exec`` so the namespace's ``/etc/netns/NS/resolv.conf`` applies exactly
as it would for an operator. The probes under test are never used to judge them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple

from vnetdoctor.knowledge.text import tr

PING = "ping"
PING_DF_1400 = "ping_df_1400"
TCP = "tcp"
DNS = "dns"
KINDS = (PING, PING_DF_1400, TCP, DNS)

LAB_PORT = 8080  # the guest's TCP listener
DNS_NAME = "host.lab.test"  # resolvable through the lab's resolver in every topology


class Check(NamedTuple):
    """One expectation with concrete names: kind, source namespace, target, expected outcome.

    ``target`` is an IPv4 address (ping, tcp) or a name (dns). ``expect_reason``
    narrows a failing TCP check to ``"refused"`` (RST: nothing listens) or
    ``"timeout"`` (silently dropped); a failing DNS check to ``"unresolved"``.
    """

    kind: str
    ns: str
    target: str
    expect_ok: bool
    port: int | None = None
    expect_reason: str | None = None
    expect_answer: str | None = None  # dns: the address the name must resolve to

    def describe(self, lang: str = "en") -> str:
        """The check as ``lab up`` lists it; a ping is its command line, said as it is typed."""
        what = ({PING: "ping", PING_DF_1400: "ping -M do -s 1400"}.get(self.kind)
                or tr("labcli.check_tcp" if self.kind == TCP else "labcli.check_dns", lang))
        target = f"{self.target}:{self.port}" if self.port else self.target
        outcome = (tr("labcli.works", lang) if self.expect_ok else
                   tr("labcli.fails_with", lang, reason=self.expect_reason) if self.expect_reason else
                   tr("labcli.fails", lang))
        return tr("labcli.check", lang, what=what, target=target, ns=self.ns, outcome=outcome)


class CheckSpec(NamedTuple):
    """A check written against roles and topology addresses, before a prefix is chosen.

    ``src`` is a namespace role (``host``, ``guest``, ``wan``); ``dst`` is ``host``,
    ``guest`` or ``peer`` (the topology's addresses) or a literal address/name.
    """

    kind: str
    src: str
    dst: str
    expect_ok: bool
    expect_reason: str | None = None


@dataclass(frozen=True)
class CheckResult:
    check: Check
    ok: bool
    reason: str  # "ok", "refused", "timeout", "unreachable", "unresolved", "no reply", …
    argv: tuple[str, ...]
    output: str
    duration_s: float

    @property
    def as_expected(self) -> bool:
        if self.ok != self.check.expect_ok:
            return False
        if not self.ok and self.check.expect_reason:
            return self.reason == self.check.expect_reason
        return True

    def describe(self) -> str:
        verdict = "as expected" if self.as_expected else "UNEXPECTED"
        return f"{self.check.describe()}: got {'ok' if self.ok else self.reason} ({verdict})"


_TCP_SCRIPT = """
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3]))
except ConnectionRefusedError:
    print("refused"); sys.exit(1)
except (socket.timeout, TimeoutError):
    print("timeout"); sys.exit(1)
except OSError as e:
    print("error", e.errno, e.strerror); sys.exit(1)
s.settimeout(float(sys.argv[3]))
try:
    print("open", s.recv(64).decode("ascii", "replace").strip())
except OSError:
    print("open")
s.close()
"""

_DNS_SCRIPT = """
import socket, sys
try:
    infos = socket.getaddrinfo(sys.argv[1], None, socket.AF_INET, socket.SOCK_STREAM)
except socket.gaierror as e:
    print("unresolved", e.args[0], e.args[1]); sys.exit(1)
print("resolved", " ".join(sorted({i[4][0] for i in infos})))
"""


def _argv(check: Check, timeout: float) -> list[str]:
    base = ["ip", "netns", "exec", check.ns]
    wait = str(max(1, round(timeout)))
    if check.kind == PING:
        return base + ["ping", "-n", "-c", "1", "-W", wait, check.target]
    if check.kind == PING_DF_1400:
        return base + ["ping", "-n", "-c", "1", "-W", wait, "-M", "do", "-s", "1400", check.target]
    if check.kind == TCP:
        return base + [sys.executable, "-I", "-S", "-c", _TCP_SCRIPT, check.target,
                       str(check.port or LAB_PORT), str(timeout)]
    if check.kind == DNS:
        return base + [sys.executable, "-I", "-S", "-c", _DNS_SCRIPT, check.target]
    raise ValueError(f"unknown check kind {check.kind!r}")


# A lab answers in well under 10 ms, so a check expected to fail is given 1 s. A check
# expected to work gets 3 s: after a revert the host may still hold a neighbour entry
# left INCOMPLETE by the fault phase, and ARP retransmits only once a second.
FAIL_TIMEOUT = 1.0
OK_TIMEOUT = 3.0


def run_check(check: Check, timeout: float | None = None) -> CheckResult:
    """Run one check now; never raises for a failing network path."""
    if timeout is None:
        timeout = OK_TIMEOUT if check.expect_ok else FAIL_TIMEOUT
    argv = _argv(check, timeout)
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            argv, check=False, capture_output=True, text=True, timeout=timeout + 10,
            stdin=subprocess.DEVNULL, env={**os.environ, "LC_ALL": "C"},
        )
        out, rc = (proc.stdout + proc.stderr).strip(), proc.returncode
    except subprocess.TimeoutExpired:
        out, rc = "the check itself hung", 124
    duration = time.perf_counter() - start
    ok, reason = _judge(check, rc, out)
    return CheckResult(check, ok, reason, tuple(argv), out, duration)


def _judge(check: Check, rc: int, out: str) -> tuple[bool, str]:
    if check.kind in (PING, PING_DF_1400):
        if rc == 0:
            return True, "ok"
        lowered = out.lower()
        if "message too long" in lowered or "frag needed" in lowered:
            return False, "too big"
        if "unreachable" in lowered:
            return False, "unreachable"
        return False, "no reply"
    first = out.split()[0] if out.split() else ""
    if check.kind == TCP:
        return (True, "ok") if rc == 0 and first == "open" else (False, first or "error")
    if rc != 0 or first != "resolved":
        return False, "unresolved"
    if check.expect_answer and check.expect_answer not in out.split()[1:]:
        return False, f"wrong answer {out}"
    return True, "ok"


def run_checks(checks: list[Check], timeout: float | None = None) -> list[CheckResult]:
    """Run checks concurrently (each failing one costs its timeout); results in order."""
    if not checks:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(checks))) as pool:
        return list(pool.map(lambda c: run_check(c, timeout), checks))
