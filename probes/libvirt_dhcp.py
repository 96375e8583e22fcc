"""Is there a DHCP server for the network, and a DHCP client in the guest?

A libvirt network that is active but whose dnsmasq died hands out no lease,
and only the process list tells: ``virsh net-info`` still says "Active: yes".
libvirt starts one dnsmasq per network with ``--conf-file=…/dnsmasq/NAME.conf``;
this probe reads ``/proc/*/cmdline`` of this machine for those (the pid files
may sit in libvirtd's own mount namespace; its processes are still listed).

In the guest, which DHCP client exists decides the fix that asks for a lease
again: Debian's ``dhclient``, busybox's ``udhcpc``; ``which`` through the agent
tells, instead of offering a command the guest does not have.
"""

from __future__ import annotations

import os
import re

from .base import ProbeOutput, Skip, probe
from .libvirt_conn import is_remote_uri, is_test_uri, uri_for
from .nsexec import run_command
from .rows_libvirt import DnsmasqRow
from .rows_platform import PlatformSignRow
from .vantage import LOCAL, Vantage, parse_vantage

PROC = "/proc"
_CONF = re.compile(r"--conf-file=(\S*/([^/\s]+)\.conf)$")
DHCP_CLIENTS = ("dhclient", "udhcpc")


def dnsmasq_processes(proc: str = PROC, netns_inode: int | None = None) -> list[DnsmasqRow]:
    """libvirt's dnsmasq processes on this machine, by the network their conf file names.

    Two libvirtd in two namespaces both have a network "default" with the same conf path:
    with ``netns_inode``, only the processes in that network namespace (the host side's,
    where the network's bridge is) count.
    """
    rows: list[DnsmasqRow] = []
    try:
        pids = [p for p in os.listdir(proc) if p.isdigit()]
    except OSError:
        return rows
    for pid in sorted(pids, key=int):
        try:
            with open(os.path.join(proc, pid, "cmdline"), "rb") as fh:
                args = [a.decode(errors="replace") for a in fh.read().split(b"\0") if a]
        except OSError:
            continue  # gone meanwhile, or not ours to read
        if not args or os.path.basename(args[0]) != "dnsmasq":
            continue
        if netns_inode is not None:
            try:
                if os.stat(os.path.join(proc, pid, "ns", "net")).st_ino != netns_inode:
                    continue
            except OSError:
                continue  # cannot tell where it runs: not counted as this network's
        for arg in args[1:]:
            m = _CONF.match(arg)
            if m and "libvirt" in m.group(1):
                rows.append(DnsmasqRow(network=m.group(2), pid=int(pid), conf=m.group(1)))
    return rows


@probe("libvirt.dnsmasq", layer="platform", title="libvirt networks' dnsmasq processes",
       vantages=("local", "libvirt"))
def dnsmasq(vantage: Vantage, uri: str | None = None, host: str | None = None, proc: str = PROC) -> ProbeOutput:
    """One row per libvirt network whose dnsmasq runs in the network namespace of ``host``
    (the host side's vantage; default this machine's own)."""
    the_uri = uri_for(vantage, uri)
    if is_test_uri(the_uri):
        raise Skip("the libvirt test driver runs no dnsmasq")
    if is_remote_uri(the_uri):
        raise Skip(f"remote hypervisor {the_uri}: its processes are not visible from here")
    where = parse_vantage(host) if host else LOCAL
    if where.kind not in ("local", "netns"):
        raise Skip(f"{where} is no network namespace of this machine")
    try:
        inode = os.stat(where.netns_path or "" if where.kind == "netns" else os.path.join(proc, "self", "ns", "net")).st_ino
    except OSError as exc:
        raise Skip(f"cannot look at the network namespace of {where}: {exc.strerror}") from None
    rows = dnsmasq_processes(proc, inode)
    return ProbeOutput(rows=tuple(rows), raw="\n".join(f"{r.pid} {r.conf}" for r in rows) or "no libvirt dnsmasq")


@probe("guest.dhcp_client", layer="network", title="DHCP client in the guest", vantages=("libvirt", "netns"))
def dhcp_client(vantage: Vantage) -> ProbeOutput:
    """Which of dhclient / udhcpc the guest has (``which`` in the guest)."""
    rows: list[PlatformSignRow] = []
    notes: list[str] = []
    for name in DHCP_CLIENTS:
        res = run_command(vantage, ["which", name], timeout=5)
        if res.returncode == 127 and ("no guest agent" in res.stderr or "which" in res.stderr.split(":")[0]):
            raise Skip(res.stderr.strip().splitlines()[0] if res.stderr.strip() else "cannot run which in the guest")
        notes.append(f"which {name}: exit {res.returncode} {res.stdout.strip()}")
        if res.ok and res.stdout.strip():
            rows.append(PlatformSignRow(platform="guest", kind="binary", name=name, present=True,
                                           detail=res.stdout.strip()))
    return ProbeOutput(rows=tuple(rows), raw="\n".join(notes))
