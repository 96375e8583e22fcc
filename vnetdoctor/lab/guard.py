"""A snapshot of what the lab must never change in the namespace it is called from.

The session guard of the test suite takes one of the root namespace before the
first lab test and compares it with one taken after the last: links, addresses,
routes, policy rules, nftables and iptables-legacy rules, and the sysctls the lab
design talks about. Everything is read from the *calling thread's* namespace
(commands are forked from it, ``/proc/sys`` follows it), which is also how a test
proves the guard can fail: the same snapshot taken inside a lab namespace differs.
Counters, route expiry timers and PROMISC/ALLMULTI flags (anyone's packet capture
toggles them) are left out so that the comparison only trips on real changes.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess

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
    proc = subprocess.run(argv, check=False, capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"}, timeout=30)
    return proc.stdout if proc.returncode == 0 else f"(exit {proc.returncode}: {proc.stderr.strip()})"


def root_snapshot() -> dict[str, list[str]]:
    """What the lab must never change, read in the calling thread's namespace."""
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
