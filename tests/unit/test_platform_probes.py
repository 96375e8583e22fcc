"""VMware/VirtualBox host detection: modules, daemons, configuration (all read-only)."""

from __future__ import annotations

import os
from pathlib import Path

from vnetdoctor.probes.base import OK, SKIPPED, run_probe
from vnetdoctor.probes.platforms import (
    detect_signs,
    own_netns,
    parse_modules,
    parse_vmware_networking,
    read_modules,
    scan_processes,
)
from vnetdoctor.probes.rows_platform import PlatformSignRow, VmnetConfigRow
from vnetdoctor.probes.vantage import LOCAL, parse_vantage

PROC_MODULES = """\
vmnet 73728 13 - Live 0xffffffffc0f4e000 (OE)
vmmon 163840 0 - Live 0xffffffffc0f1e000 (OE)
vboxdrv 696320 2 vboxnetadp,vboxnetflt, Live 0xffffffffc0e00000 (OE)
bridge 421888 0 - Live 0x0000000000000000
"""

# /etc/vmware/networking as VMware Workstation 17 writes it (addresses changed to documentation ranges).
VMWARE_NETWORKING = """\
VERSION=1,0
answer VNET_1_DHCP yes
answer VNET_1_DHCP_CFG_HASH 5B29D2BB9B9A06F7FE20D7A3A8F1E3B6A1C9E2D0
answer VNET_1_HOSTONLY_NETMASK 255.255.255.0
answer VNET_1_HOSTONLY_SUBNET 192.0.2.0
answer VNET_1_VIRTUAL_ADAPTER yes
answer VNET_8_DHCP yes
answer VNET_8_HOSTONLY_NETMASK 255.255.255.0
answer VNET_8_HOSTONLY_SUBNET 198.51.100.0
answer VNET_8_NAT yes
answer VNET_8_VIRTUAL_ADAPTER yes
add_bridge_mapping eno1 0
"""


def test_parse_modules():
    assert parse_modules(PROC_MODULES) == {"vmnet": "Live", "vmmon": "Live", "vboxdrv": "Live", "bridge": "Live"}


def test_read_modules_falls_back_to_sys_module(tmp_path: Path):
    sysmod = tmp_path / "module"
    (sysmod / "vboxdrv").mkdir(parents=True)
    (sysmod / "bridge").mkdir()
    text = read_modules(str(tmp_path / "no-proc-modules"), str(sysmod))
    assert text is not None and set(parse_modules(text)) == {"vboxdrv", "bridge"}
    assert read_modules(str(tmp_path / "none"), str(tmp_path / "none")) is None


def _fake_proc(root: Path, pid: int, comm: str, cmdline: list[str]) -> None:
    d = root / str(pid)
    d.mkdir()
    (d / "comm").write_text(comm + "\n")
    (d / "cmdline").write_bytes(b"\0".join(a.encode() for a in cmdline) + b"\0")


def test_scan_processes_reads_comm_and_cmdline(tmp_path: Path):
    _fake_proc(tmp_path, 812, "vmnet-natd", ["/usr/bin/vmnet-natd", "-s", "6", "-m", "/etc/vmware/vmnet8/nat.mac",
                                             "-c", "/etc/vmware/vmnet8/nat/nat.conf"])
    _fake_proc(tmp_path, 813, "vmnet-dhcpd", ["/usr/bin/vmnet-dhcpd", "-s", "6", "-cf",
                                              "/etc/vmware/vmnet1/dhcpd/dhcpd.conf", "vmnet1"])
    _fake_proc(tmp_path, 900, "bash", ["bash"])
    (tmp_path / "self").mkdir()
    found = scan_processes(str(tmp_path), ["vmnet-natd", "vmnet-dhcpd"])
    assert [(pid, comm) for pid, comm, _ in found] == [(812, "vmnet-natd"), (813, "vmnet-dhcpd")]
    rows = detect_signs(PROC_MODULES, found, exists=lambda p: p == "/etc/vmware", which=lambda b: "")
    procs = [(r.name, r.present, r.detail) for r in rows if r.platform == "vmware" and r.kind == "process"]
    # The vmnet a daemon serves is the last vmnetN on its command line.
    assert procs == [
        ("vmnet-natd", True, "pid 812 vmnet8"),
        ("vmnet-dhcpd", True, "pid 813 vmnet1"),
        ("vmnet-netifup", False, ""),
        ("vmnet-bridge", False, ""),
    ]


def test_detect_signs_modules_configs_binaries():
    rows = detect_signs(PROC_MODULES, [], exists=lambda p: p.startswith("/etc/vbox"),
                        which=lambda b: "/usr/bin/VBoxManage" if b == "VBoxManage" else "")
    by = {(r.platform, r.kind, r.name): r for r in rows}
    assert by[("vmware", "module", "vmmon")].present and by[("vmware", "module", "vmmon")].detail == "live"
    assert not by[("virtualbox", "module", "vboxnetadp")].present
    assert by[("virtualbox", "config", "/etc/vbox/networks.conf")].present
    assert by[("virtualbox", "binary", "VBoxManage")] == PlatformSignRow(
        "virtualbox", "binary", "VBoxManage", True, "/usr/bin/VBoxManage")
    assert not by[("vmware", "config", "/etc/vmware/networking")].present
    assert ("host", "process", "NetworkManager") in by
    # No module list at all: no module rows rather than "not loaded".
    assert not [r for r in detect_signs(None, []) if r.kind == "module"]


def test_parse_vmware_networking():
    assert parse_vmware_networking(VMWARE_NETWORKING) == [
        VmnetConfigRow("vmnet0", bridge="eno1"),
        VmnetConfigRow("vmnet1", "192.0.2.0/24", virtual_adapter=True, dhcp=True, nat=False),
        VmnetConfigRow("vmnet8", "198.51.100.0/24", virtual_adapter=True, dhcp=True, nat=True),
    ]


def test_probes_on_this_machine():
    obs = run_probe("platform.detect", LOCAL)
    assert obs.status == OK, obs.reason
    kinds = {r.kind for r in obs.rows}
    assert {"process", "config", "binary"} <= kinds
    assert {r.platform for r in obs.rows} == {"vmware", "virtualbox", "host"}
    missing = run_probe("vmware.networking", LOCAL, path="/nonexistent/vmware/networking")
    assert missing.status == SKIPPED
    assert missing.reason == "no /nonexistent/vmware/networking: VMware Workstation networking is not configured here"


def test_vmware_networking_probe_reads_the_file(tmp_path: Path):
    conf = tmp_path / "networking"
    conf.write_text(VMWARE_NETWORKING)
    obs = run_probe("vmware.networking", LOCAL, path=str(conf))
    assert [r.vmnet for r in obs.rows] == ["vmnet0", "vmnet1", "vmnet8"]


def test_machine_wide_probes_refuse_a_namespace():
    obs = run_probe("platform.detect", parse_vantage("netns:vnd-nonexistent"))
    assert obs.status == SKIPPED and obs.reason == "not available on a netns vantage"



def _ns_files(tmp_path: Path, *, same_as_init: bool, named: bool, init_readable: bool = True) -> tuple[str, str]:
    """A fake /proc and /run/netns: each namespace a file, a bind mount a hard link (same inode)."""
    proc, run = tmp_path / "proc", tmp_path / "netns"
    (proc / "self" / "ns").mkdir(parents=True)
    (proc / "1" / "ns").mkdir(parents=True)
    run.mkdir()
    init = proc / "1" / "ns" / "net"
    if init_readable:
        init.write_text("")
    own = proc / "self" / "ns" / "net"
    if same_as_init and init_readable:
        os.link(init, own)
    else:
        own.write_text("")
    (run / "other").write_text("")
    if named:
        os.link(own, run / "s2-host")
    return str(proc), str(run)


def test_own_netns_tells_the_machines_namespace_from_one_of_its_own(tmp_path: Path):
    assert own_netns(*_ns_files(tmp_path / "a", same_as_init=True, named=False)) == (False, "")
    assert own_netns(*_ns_files(tmp_path / "b", same_as_init=False, named=True)) == (True, "s2-host")
    assert own_netns(*_ns_files(tmp_path / "c", same_as_init=False, named=False)) == (True, "")
    # Unprivileged: pid 1's namespace cannot be read; a name under /run/netns still tells.
    assert own_netns(*_ns_files(tmp_path / "d", same_as_init=False, named=True, init_readable=False)) == (True, "s2-host")
    assert own_netns(*_ns_files(tmp_path / "e", same_as_init=False, named=False, init_readable=False)) is None
    assert own_netns(str(tmp_path / "nowhere"), str(tmp_path / "nowhere")) is None


def test_detect_signs_says_the_namespace_only_when_it_was_told():
    assert [r for r in detect_signs(PROC_MODULES, []) if r.kind == "netns"] == []
    rows = detect_signs(PROC_MODULES, [], netns=(True, "s2-host"))
    assert [r for r in rows if r.kind == "netns"] == [PlatformSignRow("host", "netns", "s2-host", True)]
