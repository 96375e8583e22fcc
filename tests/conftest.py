"""Shared fixtures: unique lab prefixes, and the guard that the root namespace never changes.

Every test marked ``lab`` (it needs root and network namespaces)

* is skipped, with the reason, when this process cannot create namespaces;
* uses the session-wide :func:`root_netns_guard`, which snapshots the root
  namespace's links, addresses, routes, rules, nftables/iptables rules and the
  sysctls the lab design mentions before the first lab test and fails the
  session if any of them differs after the last one.

``lab_prefix`` gives a test a prefix nobody else uses (``vnd-t<pid>x<n>-``, short
because namespace names end up in paths and logs) and takes down whatever the
lab built under it, in a ``finally``, even when the test failed.
"""

from __future__ import annotations

import glob
import itertools
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest

_COUNTER = itertools.count()


def privileged() -> bool:
    """Creating namespaces needs CAP_SYS_ADMIN and CAP_NET_ADMIN (read from /proc, not uid)."""
    from vnetdoctor.probes.caps import CAP_NET_ADMIN, CAP_SYS_ADMIN, has_cap

    return has_cap(CAP_NET_ADMIN) and has_cap(CAP_SYS_ADMIN) and shutil.which("ip") is not None


NOT_ROOT_REASON = "needs root (CAP_NET_ADMIN + CAP_SYS_ADMIN) and iproute2 to create network namespaces"


def make_lab_prefix() -> str:
    """A prefix unique to this process and call: ``vnd-t<pid>x<n>-``."""
    return f"vnd-t{os.getpid()}x{next(_COUNTER)}-"


# --- the root namespace guard -------------------------------------------------------------

# The sysctls lab.md talks about, for the root namespace ("all"/"default" and each interface).
_GUARDED_SYSCTLS = (
    "net/ipv4/ip_forward",
    "net/ipv4/icmp_echo_ignore_all",
    "net/ipv4/conf/all/rp_filter",
    "net/ipv4/conf/default/rp_filter",
    "net/ipv4/conf/all/arp_ignore",
    "net/ipv4/conf/all/arp_filter",
    "net/ipv4/conf/all/forwarding",
    "net/ipv6/conf/all/disable_ipv6",
    "net/ipv6/conf/default/disable_ipv6",
    "net/bridge/bridge-nf-call-iptables",
    "net/bridge/bridge-nf-call-ip6tables",
    "net/bridge/bridge-nf-call-arptables",
)
_PER_IF = ("rp_filter", "arp_ignore", "arp_filter", "forwarding")
_EXPIRES = re.compile(r"\s*expires \d+sec")
_COUNTERS = re.compile(r"\[\d+:\d+\]")


def _out(argv: list[str]) -> str:
    if shutil.which(argv[0]) is None:
        return f"({argv[0]} not installed)"
    proc = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"}, timeout=30)
    return proc.stdout if proc.returncode == 0 else f"(exit {proc.returncode}: {proc.stderr.strip()})"


def root_snapshot() -> dict[str, list[str]]:
    """What the lab must never change, read in the test process's own (root) namespace."""
    snap: dict[str, list[str]] = {}
    links = json.loads(_out(["ip", "-j", "-d", "link", "show"]) or "[]")
    snap["links"] = sorted(
        json.dumps({
            "ifname": link.get("ifname"),
            "ifindex": link.get("ifindex"),
            # PROMISC/ALLMULTI come and go with anyone's packet capture; they are not the lab's
            "flags": sorted(set(link.get("flags", [])) - {"PROMISC", "ALLMULTI"}),
            "mtu": link.get("mtu"),
            "master": link.get("master"),
            "address": link.get("address"),
            "kind": (link.get("linkinfo") or {}).get("info_kind"),
        }, sort_keys=True)
        for link in links
    )
    addrs = json.loads(_out(["ip", "-j", "addr", "show"]) or "[]")
    snap["addresses"] = sorted(
        f"{a.get('ifname')} {i.get('family')} {i.get('local')}/{i.get('prefixlen')}"
        for a in addrs for i in a.get("addr_info", [])
    )
    for key, argv in {
        "routes4": ["ip", "-4", "route", "show", "table", "all"],
        "routes6": ["ip", "-6", "route", "show", "table", "all"],
        "rules4": ["ip", "-4", "rule", "show"],
        "rules6": ["ip", "-6", "rule", "show"],
        "nftables": ["nft", "-s", "list", "ruleset"],
        "iptables-legacy": ["iptables-legacy-save"],
        "ip6tables-legacy": ["ip6tables-legacy-save"],
    }.items():
        text = _COUNTERS.sub("", _EXPIRES.sub("", _out(argv)))
        snap[key] = sorted(line.rstrip() for line in text.splitlines() if line.strip() and not line.startswith("#"))
    values = []
    paths = [f"/proc/sys/{p}" for p in _GUARDED_SYSCTLS]
    for ifdir in sorted(glob.glob("/proc/sys/net/ipv4/conf/*")):
        paths += [f"{ifdir}/{leaf}" for leaf in _PER_IF]
    for path in paths:
        try:
            with open(path, encoding="ascii") as fh:
                values.append(f"{path}={fh.read().strip()}")
        except OSError:
            values.append(f"{path}=(absent)")
    snap["sysctls"] = values
    return snap


def snapshot_diff(before: dict[str, list[str]], after: dict[str, list[str]]) -> list[str]:
    lines = []
    for key in sorted(set(before) | set(after)):
        old, new = set(before.get(key, [])), set(after.get(key, []))
        lines += [f"{key}: - {item}" for item in sorted(old - new)]
        lines += [f"{key}: + {item}" for item in sorted(new - old)]
    return lines


@pytest.fixture(scope="session")
def root_netns_guard() -> Iterator[dict[str, list[str]]]:
    """Fail the session if the root namespace differs after the lab tests from before them."""
    before = root_snapshot()
    yield before
    # Poll briefly: another tool on a shared machine may be mid-way through something.
    deadline = time.monotonic() + 5.0
    while True:
        diff = snapshot_diff(before, root_snapshot())
        if not diff or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert not diff, "the lab tests changed the root namespace:\n" + "\n".join(diff[:40])


@pytest.fixture(autouse=True)
def _lab_marker_guard(request: pytest.FixtureRequest) -> None:
    """Lab tests: skip without privileges, else run under the root-namespace guard."""
    if request.node.get_closest_marker("lab") is None:
        return
    if not privileged():
        pytest.skip(NOT_ROOT_REASON)
    request.getfixturevalue("root_netns_guard")


@pytest.fixture
def lab_prefix() -> Iterator[str]:
    """A fresh lab prefix; everything built under it is taken down afterwards, always."""
    prefix = make_lab_prefix()
    try:
        yield prefix
    finally:
        if privileged():
            from vnetdoctor.lab import lab_exists
            from vnetdoctor.lab.lifecycle import down_report

            report = down_report(prefix)
            left = lab_exists(prefix)
            assert not report.problems and not left, f"lab {prefix} left {report.problems + left}"
