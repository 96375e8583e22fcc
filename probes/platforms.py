"""VMware Workstation and VirtualBox on a Linux host: modules, services, configuration.

Their host-side networking is a kernel module plus a few user-space daemons:
VMware's ``vmmon``/``vmnet`` modules with ``vmnet-netifup`` (brings vmnet1/vmnet8
up with their address), ``vmnet-dhcpd`` and ``vmnet-natd`` started by
``vmware-networks``; VirtualBox's ``vboxdrv``/``vboxnetadp``/``vboxnetflt`` with
``VBoxSVC`` and ``VBoxNetDHCP``. After a kernel upgrade the modules are often
not rebuilt: the vmnet interfaces vanish and the guest and host lose each
other. These probes read only: ``/proc/modules``, ``/proc/PID/comm`` and
``cmdline``, and configuration files.

Modules and processes belong to the machine, not to a network namespace, so
these probes accept only the ``local`` vantage; the interfaces themselves come
from ``link.list``/``addr.list`` on whichever vantage plays the host.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
from collections.abc import Callable, Iterable

from .base import ProbeOutput, Skip, probe
from .rows_platform import PlatformSignRow, VmnetConfigRow
from .vantage import Vantage

VMWARE_NETWORKING = "/etc/vmware/networking"

MODULES = {
    "vmware": ("vmmon", "vmnet"),
    "virtualbox": ("vboxdrv", "vboxnetadp", "vboxnetflt"),
}
# Daemons by their /proc/PID/comm (the kernel keeps 15 characters).
PROCESSES = {
    "vmware": ("vmnet-netifup", "vmnet-dhcpd", "vmnet-natd", "vmnet-bridge"),
    "virtualbox": ("VBoxSVC", "VBoxNetDHCP", "VBoxHeadless", "VirtualBoxVM"),
    # Not a hypervisor: NetworkManager flushes addresses of interfaces it manages (vboxnetN).
    "host": ("NetworkManager",),
}
CONFIGS = {
    "vmware": ("/etc/vmware", VMWARE_NETWORKING),
    "virtualbox": ("/etc/vbox", "/etc/vbox/networks.conf"),
}
BINARIES = {
    "vmware": ("vmware-networks", "vmware"),
    "virtualbox": ("VBoxManage",),
}
_BIN_DIRS = ("/usr/bin", "/usr/sbin", "/usr/local/bin", "/opt/VirtualBox")


def parse_modules(text: str) -> dict[str, str]:
    """``/proc/modules`` → {name: state} (Live, Loading, Unloading)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 5:
            out[parts[0]] = parts[4]
    return out


def scan_processes(proc: str = "/proc", names: Iterable[str] = ()) -> list[tuple[int, str, str]]:
    """(pid, comm, cmdline) of processes whose comm is one of ``names``. Read-only."""
    wanted = set(names)
    found: list[tuple[int, str, str]] = []
    try:
        entries = os.listdir(proc)
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(os.path.join(proc, entry, "comm"), encoding="utf-8", errors="replace") as fh:
                comm = fh.read().strip()
        except OSError:  # the process exited meanwhile, or is not ours to read
            continue
        if comm not in wanted:
            continue
        try:
            with open(os.path.join(proc, entry, "cmdline"), "rb") as fh:
                cmdline = fh.read().replace(b"\0", b" ").decode("utf-8", errors="replace").strip()
        except OSError:
            cmdline = ""
        found.append((int(entry), comm, cmdline))
    return sorted(found)


_VMNET_ARG = re.compile(r"\b(vmnet\d+)\b")


def _which(name: str) -> str:
    path = shutil.which(name)
    if path:
        return path
    for folder in _BIN_DIRS:
        candidate = os.path.join(folder, name)
        if os.access(candidate, os.X_OK):
            return candidate
    return ""


def own_netns(proc: str = "/proc", run_netns: str = "/run/netns") -> tuple[bool, str] | None:
    """(does this process run in a network namespace other than the machine's, its name
    under ``run_netns`` or ""); None when that cannot be told.

    ``ip netns exec NS vnetdoctor …`` makes ``local`` a namespace: its interfaces are the
    namespace's, but the modules and processes read here are still the whole machine's,
    so the checks must not take them for that namespace's (a lab's vboxnet0 is served by
    no vboxdrv). Compared by the namespace's inode with pid 1's, which an unprivileged
    process may not read; then a name under /run/netns (readable by anyone) still tells.
    """
    try:
        own = os.stat(f"{proc}/self/ns/net")
    except OSError:
        return None
    key = (own.st_dev, own.st_ino)
    name = ""
    try:
        entries = sorted(os.listdir(run_netns))
    except OSError:
        entries = []
    for entry in entries:
        try:
            st = os.stat(os.path.join(run_netns, entry))
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == key:
            name = entry
            break
    try:
        init = os.stat(f"{proc}/1/ns/net")
    except OSError:
        return (True, name) if name else None
    return (init.st_dev, init.st_ino) != key, name


def detect_signs(
    modules_text: str | None,
    processes: list[tuple[int, str, str]],
    exists: Callable[[str], bool] = os.path.exists,
    which: Callable[[str], str] = _which,
    netns: tuple[bool, str] | None = None,
) -> list[PlatformSignRow]:
    """Every sign of VMware Workstation or VirtualBox, present or absent (pure, for tests).

    ``netns`` (:func:`own_netns`) adds the row ``host netns NAME``: present when this
    process runs in a network namespace of its own, where machine-wide signs are not its.
    """
    mods = parse_modules(modules_text or "")
    rows: list[PlatformSignRow] = []
    if netns is not None:
        rows.append(PlatformSignRow("host", "netns", netns[1], netns[0]))
    for platform in ("vmware", "virtualbox", "host"):
        # No module list at all: say nothing rather than "not loaded".
        for mod in MODULES.get(platform, ()) if modules_text is not None else ():
            rows.append(PlatformSignRow(platform, "module", mod, mod in mods, mods.get(mod, "").lower()))
        seen = set()
        for pid, comm, cmdline in processes:
            if comm in PROCESSES[platform]:
                seen.add(comm)
                vmnet = _VMNET_ARG.findall(cmdline)
                detail = f"pid {pid}" + (f" {vmnet[-1]}" if vmnet else "")
                rows.append(PlatformSignRow(platform, "process", comm, True, detail))
        for comm in PROCESSES[platform]:
            if comm not in seen:
                rows.append(PlatformSignRow(platform, "process", comm, False))
        for path in CONFIGS.get(platform, ()):
            rows.append(PlatformSignRow(platform, "config", path, bool(exists(path))))
        for binary in BINARIES.get(platform, ()):
            where = which(binary)
            rows.append(PlatformSignRow(platform, "binary", binary, bool(where), where))
    return rows


def read_modules(proc_modules: str = "/proc/modules", sys_module: str = "/sys/module") -> str | None:
    """Loaded modules in ``/proc/modules`` format; None when this kernel cannot tell.

    A kernel without loadable modules has no ``/proc/modules``; ``/sys/module``
    then still lists built-in ones, which is as good for our question.
    """
    try:
        with open(proc_modules, encoding="utf-8") as fh:
            return fh.read()
    except OSError:
        pass
    try:
        names = sorted(os.listdir(sys_module))
    except OSError:
        return None
    return "".join(f"{name} 0 0 - Builtin 0x0\n" for name in names)


@probe("platform.detect", layer="platform", title="VMware / VirtualBox on this host", vantages=("local",))
def detect(vantage: Vantage) -> ProbeOutput:
    """Modules, daemons, configuration and tools of VMware Workstation and VirtualBox."""
    modules_text = read_modules()
    names = [n for group in PROCESSES.values() for n in group]
    procs = scan_processes("/proc", names)
    rows = detect_signs(modules_text, procs, netns=own_netns())
    notes = [f"{pid} {comm} {cmd}" for pid, comm, cmd in procs]
    if modules_text is None:
        notes.append("no /proc/modules or /sys/module: modules not checked")
    return ProbeOutput(rows=tuple(rows), raw="\n".join(notes))


def parse_vmware_networking(text: str) -> list[VmnetConfigRow]:
    """``/etc/vmware/networking`` (``answer VNET_8_NAT yes`` lines) → one row per vmnet."""
    facts: dict[int, dict[str, str]] = {}
    bridges: dict[int, str] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "answer":
            m = re.fullmatch(r"VNET_(\d+)_(\w+)", parts[1])
            if m:
                facts.setdefault(int(m.group(1)), {})[m.group(2)] = parts[2]
        elif len(parts) >= 3 and parts[0] == "add_bridge_mapping" and parts[2].isdigit():
            bridges[int(parts[2])] = parts[1]
            facts.setdefault(int(parts[2]), {})
    rows: list[VmnetConfigRow] = []
    for num in sorted(facts):
        f = facts[num]
        subnet = ""
        if f.get("HOSTONLY_SUBNET") and f.get("HOSTONLY_NETMASK"):
            try:
                subnet = str(
                    ipaddress.IPv4Network(f"{f['HOSTONLY_SUBNET']}/{f['HOSTONLY_NETMASK']}", strict=False)
                )
            except ValueError:
                subnet = ""
        rows.append(
            VmnetConfigRow(
                vmnet=f"vmnet{num}",
                subnet=subnet,
                virtual_adapter=f.get("VIRTUAL_ADAPTER", "no") == "yes",
                dhcp=f.get("DHCP", "no") == "yes",
                nat=f.get("NAT", "no") == "yes",
                bridge=bridges.get(num, ""),
            )
        )
    return rows


@probe("vmware.networking", layer="platform", title="VMware virtual networks (configuration)", vantages=("local",))
def vmware_networking(vantage: Vantage, path: str = VMWARE_NETWORKING) -> ProbeOutput:
    """What the Virtual Network Editor configured: which vmnets, subnets, NAT, DHCP."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise Skip(f"no {path}: VMware Workstation networking is not configured here") from None
    except OSError as exc:
        raise Skip(f"cannot read {path}: {exc.strerror}") from None
    return ProbeOutput(rows=tuple(parse_vmware_networking(text)), raw=text[:65536])
