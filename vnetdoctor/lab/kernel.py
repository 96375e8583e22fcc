"""What this kernel and this machine's tools let the lab do, measured rather than assumed.

A scenario names the features it needs; :func:`missing` turns the first one that
is absent into the one-line reason ``lab up`` prints. Kernel features are tried
for real, once per process and only when a scenario needs them, in a throw-away
network namespace that only the
probing thread enters (``unshare(CLONE_NEWNET)`` changes that thread alone, and
the namespace vanishes with it): no name is created anywhere, nothing in the
caller's namespace is touched, and a kernel that lacks 802.1Q or bridge VLAN
filtering says so by refusing the netlink request, which is the only proof that
holds across distributions and container runtimes.
"""

from __future__ import annotations

import ctypes
import functools
import os
import shutil
import subprocess
import threading

from vnetdoctor.knowledge.text import tr
from vnetdoctor.probes.caps import CAP_NET_ADMIN, CAP_SYS_ADMIN, has_cap

CLONE_NEWNET = 0x40000000

# Feature names a scenario may list in ``needs``.
ROOT = "root"
NFT = "nft"
IPTABLES_NFT = "iptables-nft"
IPTABLES_LEGACY = "iptables-legacy"
TC_BPF = "tc-bpf"  # clsact qdisc + cls_bpf in direct-action mode (a classic-BPF drop)
VLAN = "vlan"  # 802.1Q devices and bridge VLAN filtering
BR_NETFILTER_NETNS = "br-netfilter-netns"  # bridge-nf-call-* sysctls that are per namespace
PYTHON_SERVERS = "servers"  # nothing to check: the servers need only this interpreter

_TOOLS = {NFT: "nft", IPTABLES_NFT: "iptables-nft", IPTABLES_LEGACY: "iptables-legacy"}


def is_privileged() -> bool:
    """Creating namespaces and links needs CAP_SYS_ADMIN and CAP_NET_ADMIN."""
    return has_cap(CAP_NET_ADMIN) and has_cap(CAP_SYS_ADMIN)


# Every reason below is a phrase made in English: `lab list` and `lab up` say it again
# in the operator's language (knowledge.text.in_lang), tests and JSON read the English.
ROOT_REASON = tr("labcli.root")


def _run(argv: list[str]) -> tuple[int, str]:
    try:
        proc = subprocess.run(
            argv, check=False, capture_output=True, text=True, timeout=5, stdin=subprocess.DEVNULL,
            env={**os.environ, "LC_ALL": "C"},
        )
    except FileNotFoundError:
        return 127, f"{argv[0]}: command not found"
    except subprocess.TimeoutExpired:
        return 124, f"{argv[0]}: timed out"
    return proc.returncode, (proc.stderr or proc.stdout).strip()


def _in_scratch_netns(fn):  # type: ignore[no-untyped-def]
    """Run ``fn()`` in a thread that sits in a fresh, anonymous network namespace."""
    libc = ctypes.CDLL(None, use_errno=True)
    box: dict[str, object] = {}

    def work() -> None:
        if libc.unshare(CLONE_NEWNET) != 0:
            box["error"] = OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET) failed")
            return
        try:
            box["value"] = fn()
        except Exception as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=work, name="lab-feature-probe", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]


def _veth_pair() -> str | None:
    rc, err = _run(["ip", "link", "add", "vlp0", "type", "veth", "peer", "name", "vlp1"])
    return None if rc == 0 else tr("labcli.no_veth", error=err)


@functools.cache
def _vlan() -> str | None:
    def probe() -> str | None:
        broken = _veth_pair()
        if broken:
            return broken
        rc, _ = _run(["ip", "link", "add", "link", "vlp0", "name", "vlp0.10", "type", "vlan", "id", "10"])
        devices = rc != 0
        rc, _ = _run(["ip", "link", "add", "vlbr", "type", "bridge", "vlan_filtering", "1"])
        filtering = rc != 0
        if devices or filtering:
            return tr("labcli.no_vlan_both" if devices and filtering else
                      "labcli.no_vlan_devices" if devices else "labcli.no_vlan_filtering")
        return None

    return _in_scratch_netns(probe)


@functools.cache
def _tc_bpf() -> str | None:
    def probe() -> str | None:
        broken = _veth_pair()
        if broken:
            return broken
        rc, err = _run(["tc", "qdisc", "add", "dev", "vlp0", "clsact"])
        if rc == 0:
            rc, err = _run([
                "tc", "filter", "add", "dev", "vlp0", "ingress", "protocol", "arp", "prio", "1",
                "bpf", "bytecode", "1,6 0 0 2,", "da",
            ])
        return None if rc == 0 else tr("labcli.no_tc_bpf", error=err)

    return _in_scratch_netns(probe)


@functools.cache
def _iptables_legacy() -> str | None:
    def probe() -> str | None:
        rc, err = _run(["iptables-legacy", "-w", "-S"])
        return None if rc == 0 else tr("labcli.no_iptables_legacy", error=err)

    return _in_scratch_netns(probe)


def _br_netfilter_netns() -> str | None:
    if not os.path.exists("/proc/sys/net/bridge/bridge-nf-call-iptables"):
        return tr("labcli.no_br_netfilter")
    if not _kernel_at_least(5, 3):
        return tr("labcli.br_netfilter_global")
    return None


_KERNEL_CHECKS = {
    VLAN: _vlan,
    TC_BPF: _tc_bpf,
    IPTABLES_LEGACY: _iptables_legacy,
    BR_NETFILTER_NETNS: _br_netfilter_netns,
}


def _kernel_at_least(major: int, minor: int) -> bool:
    release = os.uname().release
    try:
        parts = [int(p) for p in release.split("-")[0].split(".")[:2]]
    except ValueError:
        return False
    return tuple(parts) >= (major, minor)


def missing(needs: tuple[str, ...]) -> str | None:
    """The reason the first unmet need cannot be met here, or None when all are met."""
    if not is_privileged():
        return ROOT_REASON
    if not shutil.which("ip"):
        return tr("labcli.needs_ip")
    for need in needs:
        tool = _TOOLS.get(need)
        if tool and not shutil.which(tool):
            return tr("reason.needs_command", tool=tool)
        if need == TC_BPF and not shutil.which("tc"):
            return tr("labcli.needs_tc")
        check = _KERNEL_CHECKS.get(need)
        reason = check() if check else None
        if reason:
            return reason
    return None
