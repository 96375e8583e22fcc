"""Platform layer for VMware Workstation and VirtualBox on a Linux host.

Their host side is a handful of interfaces (vmnet1/vmnet8, vboxnetN), kernel
modules and daemons, which a kernel upgrade or a stopped service silently
removes. Interfaces are read from whichever vantage plays the host (a namespace
in the lab's simulations); modules and processes are machine-wide, so they are
examined only when the host vantage is this machine.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from typing import Any

from .checks import check
from .context import StepContext
from .text import probe_reason, tr
from .model import Evidence
from .platform_fixes import contains, found, subnet_of

# One problem seen on the host: (evidence.toml key, its values, the probe that showed it).
# Kept as data rather than text so the evidence is rendered in the operator's language
# while the ``state`` template variable keeps being derived from the English wording.
Problem = tuple[str, dict[str, Any], str]


def _problem(key: str, probe: str, **values: Any) -> Problem:
    return key, values, probe


def _host_rows(ctx: StepContext, probe: str) -> tuple[list[Any], str]:
    obs = ctx.observe(probe, ctx.host)
    why = probe_reason(obs.reason or "", ctx.lang)
    return (list(obs.rows), "") if obs.ok else ([], probe + tr("sep.colon", ctx.lang) + why)


def _signs(ctx: StepContext, platform: str) -> list[Any] | None:
    """Module/process/config/binary rows of this machine; None for a namespace host."""
    if ctx.host.kind != "local":
        return None
    obs = ctx.observe("platform.detect", ctx.host)
    if not obs.ok:
        ctx.optional("platform.detect", ctx.host)  # signs of an installation only widen what is looked at
        return None
    return [r for r in obs.rows if r.platform == platform]


def _v4(addrs: Iterable[Any], dev: str) -> list[Any]:
    return [a for a in addrs if a.ifname == dev and a.family == "inet" and a.scope != "host"]


def _subnet_holding(target: str | None, rows: Iterable[Any]) -> str | None:
    """The interface (of address rows) whose subnet holds the target."""
    if not target:
        return None
    for a in rows:
        net = subnet_of(a.address, a.prefixlen)
        if net is not None and contains(target, net):
            return a.ifname
    return None


def _by_number(names: Iterable[str]) -> list[str]:
    return sorted(set(names), key=lambda n: int(re.sub(r"\D", "", n) or 0))


def _module_problems(signs: list[Any] | None, modules: Sequence[str]) -> list[Problem]:
    if signs is None:
        return []
    loaded = {r.name: r.present for r in signs if r.kind == "module"}
    return [
        _problem("platform.module_not_loaded", "platform.detect", module=m)
        for m in modules
        if m in loaded and not loaded[m]
    ]


def _english(problem: Problem) -> str:
    """The problem's English line: what the ``state`` template variable is cut from."""
    key, values, _probe = problem
    return tr(key, "en", **values)


def _evidence(ctx: StepContext, problems: Sequence[Problem]) -> list[Evidence]:
    return [Evidence(ctx.t(key, **values), probe, str(ctx.host)) for key, values, probe in problems]


@check("platform.vmware")
def vmware(ctx: StepContext) -> None:
    links, _ = _host_rows(ctx, "link.list")
    addrs, _ = _host_rows(ctx, "addr.list")
    vmnets = {r.name: r for r in links if re.fullmatch(r"vmnet\d+", r.name)}
    signs = _signs(ctx, "vmware")
    installed = [r for r in signs or () if r.present and r.kind in ("config", "binary", "module")]
    config: list[Any] = []
    if any(r.kind == "config" and r.name.endswith("networking") and r.present for r in signs or ()):
        config, _ = _host_rows(ctx, "vmware.networking")
        ctx.optional("vmware.networking", ctx.host)  # without it the usual vmnet1/vmnet8 are expected
    target = ctx.target
    config_hit = next(
        (c.vmnet for c in config if target and c.subnet and contains(target, ipaddress.ip_network(c.subnet))),
        None,
    )
    if not vmnets and not installed and not config_hit:
        ctx.skip(ctx.t("platform.no_vmware"), concluded=True)
        return

    # Which vmnets matter: the one holding the target, else every host-adapter vmnet.
    expected = [c.vmnet for c in config if c.virtual_adapter] or ["vmnet1", "vmnet8"]
    hit = _subnet_holding(target, [a for a in addrs if a.ifname in vmnets and a.family == "inet"])
    relevant = [hit] if hit else [config_hit] if config_hit else _by_number([*expected, *vmnets])
    subnets = {c.vmnet: c.subnet for c in config}

    problems: list[Problem] = []
    states: dict[str, str] = {}  # vmnet -> what is wrong with it, for the summary
    facts: dict[str, str] = {}
    for name in relevant:
        row = vmnets.get(name)
        if row is None:
            if subnets.get(name):
                problems.append(_problem("platform.vmnet_missing_configured", "link.list",
                                         dev=name, host=ctx.host, subnet=subnets[name]))
            else:
                problems.append(_problem("platform.vmnet_missing", "link.list", dev=name, host=ctx.host))
            states[name] = "missing"
            facts["services"] = "stopped"  # vmware-networks creates the vmnet interfaces
        elif not row.admin_up:
            problems.append(_problem("platform.if_down", "link.list", dev=name, host=ctx.host, state=row.operstate))
            states[name] = "down"
            facts["state"] = "down"
        elif not _v4(addrs, name):
            if subnets.get(name):
                problems.append(_problem("platform.vmnet_no_ipv4_expected", "addr.list", dev=name,
                                         subnet=subnets[name]))
            else:
                problems.append(_problem("platform.vmnet_no_ipv4", "addr.list", dev=name))
            states[name] = "without an IPv4 address"
            facts["services"] = "stopped"
    modules = _module_problems(signs, ("vmmon", "vmnet"))
    if modules:
        facts["modules"] = "missing"
        problems += modules
    services: list[Problem] = []
    if signs is not None and any(r.kind in ("config", "binary") and r.present for r in signs):
        services = _vmware_services(signs, config, relevant)
    if services:
        facts["services"] = "stopped"
        problems += services

    if problems:
        if signs is None:
            ctx.note(ctx.t("platform.vmware_machine_wide"))
        if states:
            dev, state = next(iter(states.items()))
        else:
            dev = relevant[0] if relevant else "vmnet8"
            why = modules or services
            state = "unusable: " + _english(why[0]).split(":")[0]
        found(
            ctx,
            "vmware.vmnet_down",
            _evidence(ctx, problems),
            facts=facts,
            where=ctx.host,
            dev=dev,
            iface=dev,
            subnet=subnets.get(dev, ""),
            state=state,
        )
        return
    up = ctx.join(f"{n} {_v4(addrs, n)[0].address}/{_v4(addrs, n)[0].prefixlen}" for n in relevant)
    ctx.passed(ctx.t("platform.vmware_up", vmnets=up))


def _serving(procs: list[Any], comm: str, vmnet: str) -> bool:
    """Is a ``comm`` daemon running for ``vmnet``? (any instance when none names its vmnet)"""
    mine = [r for r in procs if r.name == comm]
    tagged = [r for r in mine if re.search(r" vmnet\d+$", r.detail)]
    if mine and not tagged:
        return True
    return any(r.detail.endswith(f" {vmnet}") for r in tagged)


def _vmware_services(signs: list[Any], config: list[Any], relevant: list[str]) -> list[Problem]:
    """Which vmware-networks daemons are missing for the vmnets that matter."""
    procs = [r for r in signs if r.kind == "process" and r.present]
    by_vmnet = {c.vmnet: c for c in config}
    problems: list[Problem] = []
    for name in relevant:
        conf = by_vmnet.get(name)
        adapter = conf.virtual_adapter if conf is not None else True
        nat = conf.nat if conf is not None else name == "vmnet8"
        dhcp = conf.dhcp if conf is not None else name in ("vmnet1", "vmnet8")
        if adapter and not _serving(procs, "vmnet-netifup", name):
            problems.append(_problem("platform.netifup_not_running", "platform.detect", dev=name))
        if nat and not _serving(procs, "vmnet-natd", name):
            problems.append(_problem("platform.natd_not_running", "platform.detect", dev=name))
        if dhcp and not _serving(procs, "vmnet-dhcpd", name):
            problems.append(_problem("platform.dhcpd_not_running", "platform.detect", dev=name))
    return problems


@check("platform.virtualbox")
def virtualbox(ctx: StepContext) -> None:
    links, _ = _host_rows(ctx, "link.list")
    addrs, _ = _host_rows(ctx, "addr.list")
    vboxnets = {r.name: r for r in links if re.fullmatch(r"vboxnet\d+", r.name)}
    signs = _signs(ctx, "virtualbox")
    installed = [r for r in signs or () if r.present and r.kind in ("config", "binary", "module")]
    if not vboxnets and not installed:
        ctx.skip(ctx.t("platform.no_virtualbox"), concluded=True)
        return
    hit = _subnet_holding(ctx.target, [a for a in addrs if a.ifname in vboxnets and a.family == "inet"])
    relevant = [hit] if hit else _by_number(vboxnets)
    problems: list[Problem] = []
    states: dict[str, str] = {}
    facts: dict[str, str] = {}
    for name in relevant:
        row = vboxnets[name]
        if not row.admin_up:
            problems.append(_problem("platform.if_down", "link.list", dev=name, host=ctx.host, state=row.operstate))
            states[name] = "down"
            facts.setdefault("state", "down")
        elif not _v4(addrs, name):
            problems.append(_problem("platform.vboxnet_no_ipv4", "addr.list", dev=name, host=ctx.host))
            states[name] = "without its IPv4 address"
            facts.setdefault("state", "no-address")
    if facts.get("state") == "no-address" and _nm_running(ctx):
        problems.append(_problem("platform.nm_may_flush", "platform.detect"))
        facts["manager"] = "networkmanager"
    # VirtualBox's service loads all its modules together; vboxnetadp makes the vboxnetN.
    modules = _module_problems(signs, ("vboxdrv", "vboxnetadp"))
    problems += modules

    if problems:
        if signs is None:
            ctx.note(ctx.t("platform.modules_machine_wide"))
        if states:
            dev, state = next(iter(states.items()))
        else:
            dev = relevant[0] if relevant else "vboxnet0"
            state = "unusable: " + _english(modules[0]).split(" (")[0]
        addr = next(iter(_v4(addrs, dev)), None)
        ip, prefixlen = (addr.address, addr.prefixlen) if addr is not None else _hostonly_address(ctx.target)
        found(
            ctx,
            "virtualbox.hostonly_down",
            _evidence(ctx, problems),
            facts=facts,
            where=ctx.host,
            dev=dev,
            iface=dev,
            # Without an address: VirtualBox's convention, .1 of the guest's /24.
            ip=ip,
            prefixlen=prefixlen,
            state=state,
        )
        return
    if not relevant:
        ctx.passed(ctx.t("platform.vbox_no_hostonly"))
        return
    up = ctx.join(f"{n} {_v4(addrs, n)[0].address}/{_v4(addrs, n)[0].prefixlen}" for n in relevant)
    ctx.passed(ctx.t("platform.vbox_up", vboxnets=up))


def _nm_running(ctx: StepContext) -> bool:
    if ctx.host.kind != "local":
        return False
    obs = ctx.observe("platform.detect", ctx.host)
    return obs.ok and any(r.platform == "host" and r.name == "NetworkManager" and r.present for r in obs.rows)


def _hostonly_address(target: str | None) -> tuple[str | None, int | None]:
    """The address a host-only interface usually holds: .1 of the guest's /24 (VirtualBox's
    default layout, 192.168.56.1 for guests in 192.168.56.0/24). None when no guest address."""
    import ipaddress

    if not target:
        return None, None
    try:
        net = ipaddress.ip_network(f"{target}/24", strict=False)
    except ValueError:
        return None, None
    return str(net.network_address + 1), 24
