"""``sysctl.net``: the kernel switches that silently stop a ping.

``icmp_echo_ignore_all=1`` (the target ignores echo requests), ``ip_forward=0``
on a routing/NAT host, ``rp_filter`` dropping asymmetric replies,
``arp_ignore``/``arp_filter`` keeping an interface from answering ARP,
``bridge-nf-call-iptables`` sending bridged frames through the firewall.

``/proc/sys/net`` shows the network namespace of the *thread* that reads it, so
reading it from the thread :func:`~.nsexec.call_in` moved into the vantage gives
that namespace's values. A libvirt guest is asked with ``sysctl -a``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from .base import ProbeOutput, Skip, probe
from .iproute_json import clip
from .nsexec import call_in, run_command
from .rows import SysctlRow
from .vantage import Vantage

GLOBAL_KEYS = (
    "net.ipv4.ip_forward",
    "net.ipv4.icmp_echo_ignore_all",
    "net.ipv4.icmp_echo_ignore_broadcasts",
    "net.bridge.bridge-nf-call-iptables",
    "net.bridge.bridge-nf-call-ip6tables",
    "net.bridge.bridge-nf-call-arptables",
)
CONF_KEYS = ("rp_filter", "arp_ignore", "arp_filter", "arp_announce", "forwarding", "proxy_arp")
_CONF_PREFIX = "net.ipv4.conf."
_PROC_SYS = "/proc/sys"


def wanted(key: str) -> bool:
    """Whether a dotted sysctl key is one the rules look at."""
    if key in GLOBAL_KEYS:
        return True
    if not key.startswith(_CONF_PREFIX):
        return False
    _, _, leaf = key.rpartition(".")
    return leaf in CONF_KEYS and key.count(".") == 4


def _conf_order(key: str) -> tuple[int, str, int]:
    """all, default, then interfaces by name; each in CONF_KEYS order."""
    middle, _, leaf = key[len(_CONF_PREFIX) :].rpartition(".")
    rank = {"all": 0, "default": 1}.get(middle, 2)
    return rank, middle, CONF_KEYS.index(leaf) if leaf in CONF_KEYS else len(CONF_KEYS)


def ordered(rows: Iterable[SysctlRow]) -> list[SysctlRow]:
    rows = list(rows)
    globals_ = sorted(
        (r for r in rows if r.key in GLOBAL_KEYS), key=lambda r: GLOBAL_KEYS.index(r.key)
    )
    confs = sorted((r for r in rows if r.key not in GLOBAL_KEYS), key=lambda r: _conf_order(r.key))
    return globals_ + confs


def _key_to_path(key: str) -> str:
    # sysctl(8) writes a '.' inside an interface name as '/': undo that for the path.
    return os.path.join(_PROC_SYS, *(part.replace("/", ".") for part in key.split(".")))


def _ifname_to_key_part(name: str) -> str:
    return name.replace(".", "/")


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            return fh.read().strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except PermissionError:
        return None


def _sysctls_here() -> list[SysctlRow]:
    """Runs inside the vantage: read every wanted key that exists there."""
    keys = list(GLOBAL_KEYS)
    try:
        confs = os.listdir(os.path.join(_PROC_SYS, "net/ipv4/conf"))
    except FileNotFoundError:
        confs = []
    for conf in confs:
        keys += [f"{_CONF_PREFIX}{_ifname_to_key_part(conf)}.{leaf}" for leaf in CONF_KEYS]
    rows = []
    for key in keys:
        value = _read(_key_to_path(key))
        if value is not None:
            rows.append(SysctlRow(key=key, value=value))
    return ordered(rows)


def rows_from_sysctl_a(text: str) -> list[SysctlRow]:
    """SysctlRows from ``sysctl -a`` output (procps or busybox: ``key = value``)."""
    rows = []
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        key = key.strip()
        if sep and wanted(key):
            rows.append(SysctlRow(key=key, value=value.strip()))
    return ordered(rows)


@probe(
    "sysctl.net",
    layer="network",
    title="Network sysctls: forwarding, rp_filter, ARP behaviour, ICMP echo, br_netfilter",
    vantages=("local", "netns", "libvirt"),
)
def sysctl_net(vantage: Vantage) -> ProbeOutput:
    if vantage.kind == "libvirt":
        result = run_command(vantage, ["sysctl", "-a"], timeout=10.0)
        if result.returncode == 127:
            raise Skip(result.stderr.strip() or "sysctl: command not found")
        rows = rows_from_sysctl_a(result.stdout)
        if not rows and not result.ok:
            raise RuntimeError(f"sysctl -a: {result.stderr.strip() or f'exit {result.returncode}'}")
    else:
        rows = call_in(vantage, _sysctls_here)
    return ProbeOutput(rows=tuple(rows), raw=clip("\n".join(f"{r.key} = {r.value}" for r in rows)))
