"""Row types of the VMware Workstation / VirtualBox host detection probes."""

from __future__ import annotations

from .base import row
from .rowkey import Row


@row
class PlatformSignRow(Row):
    """One thing that shows (or would show) a hypervisor on this host: module, process, file.

    Key: platform, kind and name of the sign; presence is what changes.
    """

    KEY_FIELDS = ("platform", "kind", "name")

    platform: str  # "vmware" | "virtualbox"
    kind: str  # "module" | "process" | "config" | "binary" | "netns" (host: the process's own namespace)
    name: str  # vmmon, vmnet-natd, /etc/vmware/networking, VBoxManage, …
    present: bool
    detail: str = ""  # process: "pid 812 vmnet8"; module: "live"; binary: its path


@row
class VmnetConfigRow(Row):
    """One virtual network of ``/etc/vmware/networking`` (what the Virtual Network Editor saves).

    Key: the vmnet's name.
    """

    KEY_FIELDS = ("vmnet",)

    vmnet: str  # vmnet1, vmnet8, …
    subnet: str = ""  # "192.0.2.0/24" ("" for a bridged vmnet)
    virtual_adapter: bool = False  # the host has an interface on it (vmnetN exists when started)
    dhcp: bool = False
    nat: bool = False
    bridge: str = ""  # bridged vmnet: the host NIC it is bridged to
