"""Faults injected into the real guest the way an operator meets them, and the way back.

Each ``inject_*`` does what a person or a failure does: libvirt API calls
(``updateDeviceFlags`` with ``<link state='down'/>``, ``destroy``, ``suspend``, an
nwfilter ``<filterref>``), iproute2/nftables in the host namespace, commands inside
the guest through its agent, killing dnsmasq. :func:`restore` is the way back to the
baseline, whatever a test left: it reads the state first and repairs only what
differs, then waits until the host pings the guest again.

Commands here are test plumbing, not fixes under test: the fixes under test come
from ``vnetdoctor diagnose --json`` and are applied through ``knowledge.apply``.
"""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

from tests.realvm.support import daemon as d
from tests.realvm.support.daemon import Instance, in_host, wait_for

FW_TABLE = "vnrvfw"


def guest_vantage(inst: Instance):  # type: ignore[no-untyped-def]
    from vnetdoctor.probes.vantage import Vantage

    return Vantage("libvirt", d.DOMAIN, inst.uri)


def in_guest(inst: Instance, *argv: str, timeout: float = 10.0, check: bool = True):  # type: ignore[no-untyped-def]
    from vnetdoctor.probes.guest_agent import run_in_guest

    result = run_in_guest(guest_vantage(inst), argv, timeout)
    if check and not result.ok:
        raise RuntimeError(f"in the guest: {' '.join(argv)} exited {result.returncode}: {result.stderr.strip()}")
    return result


def domain(inst: Instance):  # type: ignore[no-untyped-def]
    return d.connect(inst).lookupByName(d.DOMAIN)


def interface_xml(inst: Instance) -> str:
    xml = domain(inst).XMLDesc(0)
    match = re.search(r"<interface type='network'>.*?</interface>", xml, re.S)
    assert match, xml
    return match.group(0)


def tap(inst: Instance) -> str:
    match = re.search(r"<target dev='([^']+)'", interface_xml(inst))
    assert match, "the running domain has no tap"
    return match.group(1)


def update_interface(inst: Instance, xml: str) -> None:
    import libvirt

    domain(inst).updateDeviceFlags(xml, libvirt.VIR_DOMAIN_AFFECT_LIVE)


def guest_ip(inst: Instance) -> str:
    return str(wait_for("the guest's address", lambda: d.guest_ipv4(inst), 60, 0.5))


def host_pings(inst: Instance, ip: str) -> bool:
    return in_host(inst, "ping", "-c1", "-W1", ip, check=False).returncode == 0


def dnsmasq_pid(inst: Instance) -> int | None:
    path = Path(inst.root, "run", "network", f"{d.NETWORK}.pid")
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if Path(f"/proc/{pid}").exists() else None


# --- faults --------------------------------------------------------------------------


def link_down(inst: Instance) -> None:
    xml = interface_xml(inst)
    xml = re.sub(r"<link state='[^']*'/>", "", xml).replace("</interface>", "<link state='down'/></interface>")
    update_interface(inst, xml)


def nwfilter_on(inst: Instance) -> None:
    xml = re.sub(r"<filterref.*?(/>|</filterref>)", "", interface_xml(inst), flags=re.S)
    update_interface(inst, xml.replace("</interface>", f"<filterref filter='{d.NWFILTER}'/></interface>"))


def host_firewall_drop(inst: Instance, ip: str) -> None:
    in_host(inst, "nft", "add", "table", "inet", FW_TABLE)
    in_host(inst, "nft", "add", "chain", "inet", FW_TABLE, "output",
            "{ type filter hook output priority 0 ; policy accept ; }")
    in_host(inst, "nft", "add", "rule", "inet", FW_TABLE, "output", "ip", "daddr", ip,
            "icmp", "type", "echo-request", "drop")


def guest_firewall_drop(inst: Instance) -> None:
    in_guest(inst, "nft", "add", "table", "inet", FW_TABLE)
    in_guest(inst, "nft", "add", "chain", "inet", FW_TABLE, "input",
             "{ type filter hook input priority 0 ; policy accept ; }")
    in_guest(inst, "nft", "add", "rule", "inet", FW_TABLE, "input", "icmp", "type", "echo-request", "drop")


def guest_dhcp_client_stop(inst: Instance) -> None:
    """The guest's DHCP client dies and its address goes (the lease stays in dnsmasq)."""
    in_guest(inst, "sh", "-c", "kill $(cat /run/udhcpc.pid); ip -4 addr flush dev eth0")


def guest_dhcp_client_start(inst: Instance) -> None:
    in_guest(inst, "udhcpc", "-i", "eth0", "-s", "/etc/udhcpc.script", "-b", "-t", "3", "-T", "1", "-A", "1",
             "-p", "/run/udhcpc.pid", timeout=20)


def dnsmasq_dies(inst: Instance) -> None:
    """dnsmasq is killed while the network stays active; the guest then loses its address."""
    pid = dnsmasq_pid(inst)
    assert pid, "the network's dnsmasq is not running"
    os.kill(pid, signal.SIGKILL)
    wait_for("dnsmasq to die", lambda: dnsmasq_pid(inst) is None, 10, 0.1)
    guest_dhcp_client_stop(inst)
    guest_dhcp_client_start(inst)  # it keeps asking, and nobody answers


def resolver_refuses(inst: Instance) -> None:
    Path(inst.root, "dns-mode").write_text("refuse\n")


# --- back to the baseline ------------------------------------------------------------


def _restart_network(inst: Instance) -> None:
    """Restart the network (dnsmasq with it); ``restore`` then puts the tap back on the bridge."""
    net = d.connect(inst).networkLookupByName(d.NETWORK)
    net.destroy()
    net.create()


def restore(inst: Instance) -> None:
    """Put the host, the network and the guest back to the baseline; wait until ping works."""
    import libvirt

    Path(inst.root, "dns-mode").write_text("answer\n")
    conn = d.connect(inst)
    net = conn.networkLookupByName(d.NETWORK)
    if not net.isActive():
        net.create()
    elif dnsmasq_pid(inst) is None:
        _restart_network(inst)
    dom = conn.lookupByName(d.DOMAIN)
    state = dom.state()[0]
    if state == libvirt.VIR_DOMAIN_PAUSED:
        dom.resume()
    elif state != libvirt.VIR_DOMAIN_RUNNING:
        dom.create()
    try:
        d.wait_for("the guest agent", lambda: d.agent_ping(inst), 45, 0.5)
    except TimeoutError:  # a guest a test left hung: boot it again rather than fail every later test
        dom.destroy()
        dom.create()
        d.wait_for("the guest agent", lambda: d.agent_ping(inst), 120, 0.5)
    xml = interface_xml(inst)
    if "state='down'" in xml or "<filterref" in xml:
        xml = re.sub(r"<link state='[^']*'/>", "", xml)
        update_interface(inst, re.sub(r"<filterref.*?(/>|</filterref>)", "", xml, flags=re.S))
    dev = tap(inst)
    links = in_host(inst, "ip", "-o", "link", "show", "dev", dev).stdout
    if f"master {d.BRIDGE}" not in links:
        in_host(inst, "ip", "link", "set", dev, "master", d.BRIDGE)
    if "mtu 1500" not in links:
        in_host(inst, "ip", "link", "set", dev, "mtu", "1500")
    if "state DOWN" in links or "<BROADCAST,MULTICAST>" in links or ",UP" not in links:
        in_host(inst, "ip", "link", "set", dev, "up")
    in_host(inst, "nft", "delete", "table", "inet", FW_TABLE, check=False)
    in_guest(inst, "nft", "delete", "table", "inet", FW_TABLE, check=False)
    in_guest(inst, "sysctl", "-w", "net.ipv4.icmp_echo_ignore_all=0")
    if d.guest_ipv4(inst) is None:
        if in_guest(inst, "sh", "-c", "test -s /run/udhcpc.pid && kill -0 $(cat /run/udhcpc.pid)", check=False).returncode != 0:
            guest_dhcp_client_start(inst)
        else:  # a client that gave up waiting: ask again now
            in_guest(inst, "sh", "-c", "kill -USR1 $(cat /run/udhcpc.pid)")
    ip = guest_ip(inst)
    wait_for(f"the host to ping the guest at {ip}", lambda: host_pings(inst, ip), 60, 0.3)


def settle(inst: Instance, seconds: float = 8.0) -> None:
    """After a fix that re-adds a port: STP listening + learning take ~4 s (real-vm.md)."""
    deadline = time.monotonic() + seconds
    ip = d.guest_ipv4(inst)
    while ip and time.monotonic() < deadline and not host_pings(inst, ip):
        time.sleep(0.3)



def shut_off(inst: Instance) -> None:
    """Wait until a guest asked to shut down (``virsh shutdown``) has gone."""
    wait_for("the guest to shut down", lambda: not domain(inst).isActive(), 60, 0.3)
