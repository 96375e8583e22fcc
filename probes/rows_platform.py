"""Row types of the VMware Workstation / VirtualBox host detection probes."""

from __future__ import annotations

from .base import row


@row
class PlatformSignRow:
    """One thing that shows (or would show) a hypervisor on this host: module, process, file."""

    platform: str  # "vmware" | "virtualbox"
    kind: str  # "module" | "process" | "config" | "binary"
    name: str  # vmmon, vmnet-natd, /etc/vmware/networking, VBoxManage, …
    present: bool
    detail: str = ""  # process: "pid 812 vmnet8"; module: "live"; binary: its path


@row
class VmnetConfigRow:
    """One virtual network of ``/etc/vmware/networking`` (what the Virtual Network Editor saves)."""

    vmnet: str  # vmnet1, vmnet8, …
    subnet: str = ""  # "192.0.2.0/24" ("" for a bridged vmnet)
    virtual_adapter: bool = False  # the host has an interface on it (vmnetN exists when started)
    dhcp: bool = False
    nat: bool = False
    bridge: str = ""  # bridged vmnet: the host NIC it is bridged to
