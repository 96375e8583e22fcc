"""Platform-layer checks: libvirt on the test driver; VMware/VirtualBox on recorded rows.

The step context is the engine's own (StepContext with an Observer); catalogue
templates render strictly under pytest, so a check that forgets a variable its
cause's fixes need fails here.
"""

from __future__ import annotations

import pytest
from tests.unit.support.libvirt_fakes import LAB_URI, FakeAgent, installed_leases, lease
from vnetdoctor.knowledge.checks import load_checks
from vnetdoctor.knowledge.context import Shared, StepContext
from vnetdoctor.knowledge.model import FAIL, PASS, SKIP, Request
from vnetdoctor.knowledge.observer import Observer, RecordedObserver
from vnetdoctor.probes import guest_agent, libvirt_conn
from vnetdoctor.probes.base import Observation
from vnetdoctor.probes.rows import AddrRow, LinkRow
from vnetdoctor.probes.rows_platform import PlatformSignRow, VmnetConfigRow
from vnetdoctor.probes.vantage import LOCAL, Vantage, parse_vantage

pytest.importorskip("libvirt")
CHECKS = load_checks()
C = f"virsh -c {LAB_URI}"


def run(step: str, *, guest: str | None = None, host: Vantage = LOCAL, target: str | None = None,
        observer: Observer | None = None) -> StepContext:
    req = Request(target=target, host=host, guest=parse_vantage(guest) if guest else None)
    ctx = StepContext(Shared(req, observer or Observer(), "en"), step, "platform")
    CHECKS[step](ctx)
    return ctx


def lab(domain: str) -> str:
    return f"libvirt:{domain}@{LAB_URI}"


@pytest.fixture(autouse=True)
def fresh():
    libvirt_conn.forget(LAB_URI)
    yield
    libvirt_conn.forget(LAB_URI)


@pytest.fixture
def leases():
    with installed_leases() as fake:
        yield fake


# --- libvirt ------------------------------------------------------------------------------


def test_healthy_domain_passes_and_says_what_it_saw():
    ctx = run("platform.libvirt", guest=lab("web"))
    assert ctx.status() == PASS and ctx.findings == []
    note = ctx.summary_note()
    assert "domain web running" in note
    assert "network default is active but not autostarted (virsh net-autostart default)" in note
    assert "leases: the libvirt test driver has no DHCP leases" in note


def test_link_state_down_only_the_xml_tells():
    ctx = run("platform.libvirt", guest=lab("db"))
    assert ctx.status() == FAIL
    (f,) = ctx.findings
    assert f.cause == "libvirt.interface_link_down"
    assert f.summary == "the link of testnet0 on domain db is set down"
    assert [e.text for e in f.evidence] == [
        "domain XML of db: <link state='down'/> on testnet0 (52:54:00:00:00:03)",
        "host tap testnet0: test driver: tap names are invented, not looked up on the host",
    ]
    assert [(x.command, x.undo, x.where) for x in f.fixes] == [
        (f"{C} domif-setlink db testnet0 up", f"{C} domif-setlink db testnet0 down", "local"),
    ]


@pytest.mark.parametrize(
    ("domain", "state", "command", "undo"),
    [
        ("stopped", "shutoff", "start stopped", "shutdown stopped"),
        ("frozen", "paused", "resume frozen", "suspend frozen"),
        ("asleep", "pmsuspended", "dompmwakeup asleep", "dompmsuspend asleep mem"),
    ],
)
def test_domain_not_running(domain, state, command, undo):
    ctx = run("platform.libvirt", guest=lab(domain))
    f = ctx.findings[0]
    assert f.cause == "libvirt.domain_not_running"
    assert f.summary == f"domain {domain} is {state}"
    assert f.evidence[0].text == f"domain {domain} is {state} on {LAB_URI}"
    # Only the fix for this state (the catalogue's `when`), talking to this URI.
    assert [(x.command, x.undo) for x in f.fixes] == [(f"{C} {command}", f"{C} {undo}")]


def test_network_stopped_names_net_start_and_autostart():
    libvirt_conn.connection(LAB_URI).networkLookupByName("default").destroy()
    ctx = run("platform.libvirt", guest=lab("web"))
    (f,) = ctx.findings
    assert (f.cause, f.severity) == ("libvirt.network_inactive", FAIL)
    assert f.summary == "libvirt network default is not active (autostart: no)"
    assert [e.text for e in f.evidence] == [
        "network default is inactive: no virbr0, no dnsmasq (web uses it through 52:54:00:00:00:02)",
        "network default is not autostarted either",
    ]
    assert [x.command for x in f.fixes] == [f"{C} net-start default", f"{C} net-autostart default"]
    assert [x.undo for x in f.fixes] == [f"{C} net-destroy default", f"{C} net-autostart default --disable"]


def test_autostarted_but_stopped_network_needs_only_a_start():
    net = libvirt_conn.connection(LAB_URI).networkLookupByName("isolated")
    net.setAutostart(1)
    net.destroy()
    ctx = run("platform.libvirt", guest=lab("stopped"))
    causes = [f.cause for f in ctx.findings]
    assert causes == ["libvirt.domain_not_running", "libvirt.network_inactive"]
    inactive = ctx.findings[1]
    assert inactive.summary == "libvirt network isolated is not active (autostart: yes)"
    assert inactive.evidence[0].text == "network isolated is inactive: no virbr1 (stopped uses it through 52:54:00:00:00:05)"
    assert [x.command for x in inactive.fixes] == [f"{C} net-start isolated"]


def test_undefined_network_offers_no_fix_that_cannot_work():
    ctx = run("platform.libvirt", guest=lab("orphan"))
    (f,) = ctx.findings
    assert f.cause == "libvirt.network_inactive"
    assert "uses network gone, which is not defined" in f.evidence[0].text
    assert f.fixes == ()


def test_no_lease_on_a_dhcp_network(leases):
    leases.leases_by_network["default"] = [lease("52:54:00:00:00:99", "198.51.100.150")]
    ctx = run("platform.libvirt", guest=lab("web"))
    (f,) = ctx.findings
    assert f.cause == "libvirt.dhcp_no_lease"
    assert f.summary == "no DHCP lease for 52:54:00:00:00:02 in libvirt network default"
    assert [e.text for e in f.evidence] == [
        "network default hands out 198.51.100.100-198.51.100.199",
        "no DHCP lease for web's 52:54:00:00:00:02 on default",
        "52:54:00:00:00:02 already has a static DHCP host entry in default",
    ]
    # No reservation for a MAC that has one already (and the range is not full); without
    # an agent neither the guest's NIC nor its DHCP client is known: guidance only.
    assert [(x.runnable, x.missing, x.where) for x in f.fixes] == [(False, ("dev",), lab("web"))] * 2
    assert all("<" not in x.note for x in f.fixes)


def test_lease_present_passes(leases):
    leases.leases_by_network["default"] = [lease("52:54:00:00:00:02", "198.51.100.20")]
    ctx = run("platform.libvirt", guest=lab("web"))
    assert ctx.status() == PASS
    assert "lease 198.51.100.20 for 52:54:00:00:00:02" in ctx.summary_note()


def test_static_address_seen_by_the_agent_is_not_a_missing_lease(leases):
    previous = guest_agent.set_agent_transport(FakeAgent())
    try:
        ctx = run("platform.libvirt", guest=lab("web"))
    finally:
        guest_agent.set_agent_transport(previous)
    assert ctx.status() == PASS
    assert "no lease for 52:54:00:00:00:02, but the guest has 198.51.100.7 on eth0 (static)" in ctx.summary_note()


def test_macvtap_only_guest_is_a_cause():
    """No trace yet (the check alone): macvtap as the guest's only NIC explains host↔guest."""
    ctx = run("platform.libvirt", guest=lab("vtap"))
    assert ctx.status() == FAIL
    (finding,) = [f for f in ctx.findings if f.cause == "libvirt.macvtap_isolation"]
    assert "52:54:00:00:00:0a" in finding.summary and "eno1" in finding.summary
    assert any("type='direct' (macvtap) on eno1" in e.text for e in finding.evidence)
    assert [f.command for f in finding.fixes][0].startswith("virsh")


def test_libvirt_check_skips_without_a_libvirt_guest_or_domain():
    assert run("platform.libvirt").skipped == "no libvirt guest in this request (use --guest libvirt:DOMAIN[@URI])"
    ctx = run("platform.libvirt", guest=lab("nosuch"))
    assert ctx.status() == SKIP
    assert ctx.skipped == f"LibvirtLookupError: no libvirt domain 'nosuch' on {LAB_URI}"


# --- VMware Workstation / VirtualBox on recorded rows ------------------------------------------

SIM = parse_vantage("netns:vnd-sim-host")


def link(name: str, up: bool = True, kind: str = "") -> LinkRow:
    return LinkRow(ifindex=len(name), name=name, kind=kind, operstate="UNKNOWN" if up else "DOWN",
                   admin_up=up, carrier=up, mtu=1500, mac="00:50:56:c0:00:08")


def addr(dev: str, ip: str, prefix: int = 24) -> AddrRow:
    return AddrRow(dev, "inet", ip, prefix, "global")


def recorded(host: Vantage, links: list[LinkRow], addrs: list[AddrRow], **extra: tuple) -> RecordedObserver:
    obs = [
        Observation(probe="link.list", vantage=str(host), rows=(link("lo", kind="loopback"), *links)),
        Observation(probe="addr.list", vantage=str(host), rows=tuple(addrs)),
    ]
    for probe_id, rows in extra.items():
        obs.append(Observation(probe=probe_id.replace("_", "."), vantage=str(host), rows=tuple(rows)))
    return RecordedObserver(obs)


def test_vmware_vmnet8_missing_in_a_simulated_host():
    ob = recorded(SIM, [link("eth0"), link("vmnet1")], [addr("vmnet1", "192.0.2.1")])
    ctx = run("platform.vmware", host=SIM, observer=ob)
    (f,) = ctx.findings
    assert f.cause == "vmware.vmnet_down"
    assert f.summary == "VMware interface vmnet8 is missing on netns:vnd-sim-host"
    assert [e.text for e in f.evidence] == ["vmnet8 is missing on netns:vnd-sim-host"]
    # vmware-networks starts the machine's VMware services: in a namespace it is shown, never run
    assert [(x.command, x.runnable, x.where) for x in f.fixes] == [
        ("vmware-networks --start", False, "netns:vnd-sim-host")]
    assert "machine-wide" in " ".join(ctx.notes)


def test_vmware_vmnet8_down():
    ob = recorded(SIM, [link("vmnet1"), link("vmnet8", up=False)],
                  [addr("vmnet1", "192.0.2.1"), addr("vmnet8", "198.51.100.1")])
    f = run("platform.vmware", host=SIM, observer=ob).findings[0]
    assert f.summary == "VMware interface vmnet8 is down on netns:vnd-sim-host"
    assert f.evidence[0].text == "vmnet8 is down on netns:vnd-sim-host (state DOWN)"
    assert [(x.command, x.undo) for x in f.fixes] == [
        ("ip netns exec vnd-sim-host ip link set dev vmnet8 up",
         "ip netns exec vnd-sim-host ip link set dev vmnet8 down"),
    ]


def test_vmware_healthy_and_target_scoping():
    both = [addr("vmnet1", "192.0.2.1"), addr("vmnet8", "198.51.100.1")]
    ctx = run("platform.vmware", host=SIM, observer=recorded(SIM, [link("vmnet1"), link("vmnet8")], both))
    assert ctx.status() == PASS
    assert ctx.summary_note() == "VMware networking up: vmnet1 192.0.2.1/24, vmnet8 198.51.100.1/24"
    # The target is on vmnet1's subnet: a missing vmnet8 is not this ticket's problem.
    ob = recorded(SIM, [link("vmnet1")], both[:1])
    assert run("platform.vmware", host=SIM, target="192.0.2.128", observer=ob).status() == PASS
    assert run("platform.vmware", host=SIM, target="198.51.100.7", observer=ob).status() == FAIL


def test_vmware_skips_without_any_sign():
    ctx = run("platform.vmware", host=SIM, observer=recorded(SIM, [link("eth0")], []))
    assert ctx.skipped == "no VMware Workstation networking on this host"


def vmware_signs(*, modules: bool, procs: tuple[str, ...] = ()) -> list[PlatformSignRow]:
    rows = [PlatformSignRow("vmware", "module", m, modules) for m in ("vmmon", "vmnet")]
    rows += [PlatformSignRow("vmware", "process", p, True, f"pid {100 + i} vmnet8") for i, p in enumerate(procs)]
    rows += [PlatformSignRow("vmware", "config", "/etc/vmware", True),
             PlatformSignRow("vmware", "config", "/etc/vmware/networking", True),
             PlatformSignRow("vmware", "binary", "vmware-networks", True, "/usr/bin/vmware-networks")]
    return rows


NETWORKING = [
    VmnetConfigRow("vmnet1", "192.0.2.0/24", virtual_adapter=True, dhcp=True),
    VmnetConfigRow("vmnet8", "198.51.100.0/24", virtual_adapter=True, dhcp=True, nat=True),
]


def test_vmware_on_this_machine_after_a_kernel_upgrade():
    """Modules not built for the new kernel: no vmnets, no daemons. Fix: modprobe, then the services."""
    ob = recorded(LOCAL, [link("eth0")], [], platform_detect=vmware_signs(modules=False),
                  vmware_networking=NETWORKING)
    ctx = run("platform.vmware", target="198.51.100.7", observer=ob)
    (f,) = ctx.findings
    assert f.summary == "VMware interface vmnet8 is missing on local"
    assert [e.text for e in f.evidence] == [
        "vmnet8 is missing on local (configured in /etc/vmware/networking for 198.51.100.0/24)",
        "kernel module vmmon is not loaded (lsmod | grep vmmon)",
        "kernel module vmnet is not loaded (lsmod | grep vmnet)",
        "vmnet-netifup is not running for vmnet8: vmware-networks is not started",
        "vmnet-natd is not running: NAT on vmnet8 is stopped",
        "vmnet-dhcpd is not running: no DHCP on vmnet8",
    ]
    assert [x.command for x in f.fixes] == ["modprobe vmnet", "vmware-networks --start"]


def test_vmware_services_stopped_only():
    procs = ("vmnet-netifup", "vmnet-dhcpd")  # vmnet-natd gone
    ob = recorded(LOCAL, [link("vmnet8")], [addr("vmnet8", "198.51.100.1")],
                  platform_detect=vmware_signs(modules=True, procs=procs), vmware_networking=NETWORKING)
    f = run("platform.vmware", target="198.51.100.7", observer=ob).findings[0]
    assert f.summary == "VMware interface vmnet8 is unusable: vmnet-natd is not running on local"
    assert [e.text for e in f.evidence] == ["vmnet-natd is not running: NAT on vmnet8 is stopped"]
    assert [x.command for x in f.fixes] == ["vmware-networks --start"]


def test_virtualbox_hostonly_without_address():
    ob = recorded(SIM, [link("vboxnet0")], [])
    f = run("platform.virtualbox", host=SIM, observer=ob).findings[0]
    assert f.cause == "virtualbox.hostonly_down"
    assert f.summary == "VirtualBox interface vboxnet0 on netns:vnd-sim-host is without its IPv4 address"
    # No guest address to guess the host-only address from: guidance, not "<ip>/<prefixlen>".
    assert [(x.runnable, x.missing) for x in f.fixes] == [(False, ("ip", "prefixlen"))]


def test_virtualbox_hostonly_down_keeps_its_address_in_the_fix():
    ob = recorded(SIM, [link("vboxnet0", up=False)], [addr("vboxnet0", "203.0.113.1")])
    f = run("platform.virtualbox", host=SIM, observer=ob).findings[0]
    assert f.summary == "VirtualBox interface vboxnet0 on netns:vnd-sim-host is down"
    assert [x.command for x in f.fixes] == ["ip netns exec vnd-sim-host ip link set dev vboxnet0 up"]


def test_virtualbox_local_modules_and_networkmanager():
    signs = [PlatformSignRow("virtualbox", "module", "vboxdrv", False),
             PlatformSignRow("virtualbox", "module", "vboxnetadp", True),
             PlatformSignRow("virtualbox", "binary", "VBoxManage", True, "/usr/bin/VBoxManage"),
             PlatformSignRow("host", "process", "NetworkManager", True, "pid 700")]
    ob = recorded(LOCAL, [link("vboxnet0")], [], platform_detect=signs)
    f = run("platform.virtualbox", observer=ob).findings[0]
    assert [e.text for e in f.evidence] == [
        "vboxnet0 has no IPv4 address on local (VBoxManage list hostonlyifs shows the one it should have)",
        "NetworkManager is running and may have flushed the host-only address",
        "kernel module vboxdrv is not loaded (lsmod | grep vboxdrv)",
    ]
    assert [(x.command, x.missing) for x in f.fixes] == [
        ("", ("ip", "prefixlen")), ("nmcli device set vboxnet0 managed no", ()),
    ]


def test_virtualbox_healthy_and_absent():
    ob = recorded(SIM, [link("vboxnet0"), link("vboxnet1")],
                  [addr("vboxnet0", "203.0.113.1"), addr("vboxnet1", "192.0.2.129", 25)])
    ctx = run("platform.virtualbox", host=SIM, observer=ob)
    assert ctx.summary_note() == "VirtualBox host-only networking up: vboxnet0 203.0.113.1/24, vboxnet1 192.0.2.129/25"
    ctx = run("platform.virtualbox", host=SIM, observer=recorded(SIM, [link("eth0")], []))
    assert ctx.skipped == "no VirtualBox host-only networking on this host"


# --- local is a namespace of its own (ip netns exec): modules and daemons are the machine's -------

IN_NETNS = PlatformSignRow("host", "netns", "s2-host", True)
VBOX_UNLOADED = [PlatformSignRow("virtualbox", "module", "vboxdrv", False),
                 PlatformSignRow("virtualbox", "module", "vboxnetadp", False),
                 PlatformSignRow("host", "process", "NetworkManager", True, "pid 700")]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_machine_wide_module_names_no_cause_for_a_namespace_walked_from_inside(lang: str):
    """A lab's VirtualBox simulation walked with ``ip netns exec``: vboxnet0 is up with its address,
    and the machine has no vboxdrv. That is the machine's fact, said as such, and no cause."""
    ob = recorded(LOCAL, [link("vboxnet0")], [addr("vboxnet0", "203.0.113.1")],
                  platform_detect=[IN_NETNS, *VBOX_UNLOADED])
    req = Request(target="203.0.113.11", host=LOCAL, lang=lang)
    ctx = StepContext(Shared(req, ob, lang), "platform.virtualbox", "platform")
    CHECKS["platform.virtualbox"](ctx)
    assert ctx.status() == PASS and ctx.findings == []
    note = ctx.summary_note()
    if lang == "en":
        assert note.startswith("this machine's, not network namespace s2-host's: kernel module vboxdrv is not "
                               "loaded (lsmod | grep vboxdrv); kernel module vboxnetadp is not loaded"), note
        assert note.endswith("VirtualBox host-only networking up: vboxnet0 203.0.113.1/24"), note
    else:
        assert note.startswith("这是整台机器的情况，不属于网络命名空间 s2-host：内核模块 vboxdrv 没有加载"), note


def test_a_namespace_interface_fault_is_named_without_the_machines_modules_or_networkmanager():
    ob = recorded(LOCAL, [link("vboxnet0")], [], platform_detect=[IN_NETNS, *VBOX_UNLOADED])
    ctx = run("platform.virtualbox", observer=ob)
    (f,) = ctx.findings
    assert f.cause == "virtualbox.hostonly_down"
    assert [e.text for e in f.evidence] == [
        "vboxnet0 has no IPv4 address on local (VBoxManage list hostonlyifs shows the one it should have)"]
    assert [x.command for x in f.fixes if x.command.startswith("nmcli")] == []
    assert any("not network namespace s2-host's: NetworkManager is running" in n for n in ctx.notes), ctx.notes


def test_vmware_modules_and_daemons_of_the_machine_are_not_a_namespaces_cause():
    signs = [IN_NETNS, *vmware_signs(modules=False)]
    ob = recorded(LOCAL, [link("vmnet1"), link("vmnet8")], [addr("vmnet1", "192.0.2.1"), addr("vmnet8", "198.51.100.1")],
                  platform_detect=signs)
    ctx = run("platform.vmware", target="198.51.100.7", observer=ob)
    assert ctx.status() == PASS and ctx.findings == [], ctx.summary_note()
    note = ctx.summary_note()
    assert "not network namespace s2-host's: kernel module vmmon is not loaded" in note
    assert "vmnet-natd is not running" in note and note.endswith("VMware networking up: vmnet8 198.51.100.1/24")


def test_the_machines_own_namespace_still_names_the_module():
    """No netns row (pid 1's namespace unreadable, no /run/netns name) or a row saying the
    machine's own namespace: modules are this host's, as before."""
    for signs in (VBOX_UNLOADED, [PlatformSignRow("host", "netns", "", False), *VBOX_UNLOADED]):
        ob = recorded(LOCAL, [link("vboxnet0")], [addr("vboxnet0", "203.0.113.1")], platform_detect=signs)
        (f,) = run("platform.virtualbox", observer=ob).findings
        assert f.evidence[0].text == "kernel module vboxdrv is not loaded (lsmod | grep vboxdrv)"
