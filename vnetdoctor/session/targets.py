"""What the Start screen offers: guests this host knows about, found without touching them.

Read-only discovery in four places: libvirt domains (state, MACs, addresses from
DHCP leases), VMware/VirtualBox host interfaces (``vmnet*``, ``vboxnet*``), the
fault lab's running instances, and other network namespaces. A source that
cannot be read says why (``skipped: needs libvirt-python``) instead of hiding.
No Textual here: part of the session core; the Start screen runs :func:`discover`
in a worker thread.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from vnetdoctor.knowledge.target_kind import classify
from vnetdoctor.probes.base import Observation, run_probe
from vnetdoctor.probes.vantage import LOCAL, NETNS_DIR


@dataclass(frozen=True)
class Target:
    """One candidate: enough to show a table row and to fill in the request."""

    kind: str  # libvirt | vmware | virtualbox | lab | netns
    name: str
    state: str = ""
    addresses: tuple[str, ...] = ()
    macs: tuple[str, ...] = ()
    host: str = "local"  # vantage of the host side
    guest: str | None = None  # vantage of the guest side, when reachable without the network
    target: str | None = None  # the address to probe (None: the engine discovers it)
    from_side: str = "host"
    port: int | None = None
    note: str = ""

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.name}"


def _probe(probe_id: str, **params: object) -> Observation:
    return run_probe(probe_id, LOCAL, **params)


def _why(obs: Observation) -> str:
    return obs.reason or obs.status


def libvirt_targets() -> tuple[list[Target], list[str]]:
    """Domains with their state, MACs (XML) and IPv4 addresses (DHCP leases)."""
    try:
        import vnetdoctor.probes.libvirt  # noqa: F401 - registers the libvirt probes
    except ImportError as exc:
        return [], [f"libvirt: skipped: {exc}"]
    doms = _probe("libvirt.domains")
    if not doms.ok:
        return [], [f"libvirt: {doms.status}: {_why(doms)}"]
    notes: list[str] = []
    ifaces = _probe("libvirt.interfaces")
    macs: dict[str, list[str]] = {}
    if ifaces.ok:
        for row in ifaces.rows:
            macs.setdefault(row.domain, []).append(row.mac)
    else:
        notes.append(f"libvirt interfaces: {ifaces.status}: {_why(ifaces)}")
    ips: dict[str, list[str]] = {}
    leases = _probe("libvirt.leases")
    if leases.ok:
        for row in leases.rows:
            ips.setdefault(row.mac.lower(), []).append(row.ip)
    else:
        notes.append(f"libvirt leases: {leases.status}: {_why(leases)}")
    out: list[Target] = []
    for dom in doms.rows:
        dom_macs = tuple(macs.get(dom.name, ()))
        addrs = tuple(ip for m in dom_macs for ip in ips.get(m.lower(), ()))
        # A lease is shown as it is, but only a host's address is offered as the target.
        hosts = [ip for ip in addrs if classify(ip) is None]
        out.append(
            Target(
                kind="libvirt",
                name=dom.name,
                state=dom.state,
                addresses=addrs,
                macs=dom_macs,
                guest=f"libvirt:{dom.name}",
                target=hosts[0] if hosts else None,
                note="" if dom.agent_channel else "start.note_no_agent",
            )
        )
    return out, notes


def platform_targets() -> tuple[list[Target], list[str]]:
    """VMware ``vmnetN`` and VirtualBox ``vboxnetN`` host interfaces, with their addresses."""
    links = _probe("link.list")
    if not links.ok:
        return [], [f"vmware/virtualbox: {links.status}: {_why(links)}"]
    addrs: dict[str, list[str]] = {}
    addr_obs = _probe("addr.list")
    if addr_obs.ok:
        for row in addr_obs.rows:
            if row.family == "inet":
                addrs.setdefault(row.ifname, []).append(f"{row.address}/{row.prefixlen}")
    out: list[Target] = []
    for link in links.rows:
        kind = "vmware" if link.name.startswith("vmnet") else "virtualbox" if link.name.startswith("vboxnet") else ""
        if not kind:
            continue
        out.append(
            Target(
                kind=kind,
                name=link.name,
                state=link.operstate,
                addresses=tuple(addrs.get(link.name, ())),
                macs=(link.mac,) if link.mac else (),
                note="start.note_type_guest_ip",
            )
        )
    return out, []


def lab_targets() -> tuple[list[Target], set[str], list[str]]:
    """Running lab instances and the namespaces they own.

    Read through the lab's public door (:func:`vnetdoctor.lab.running_labs`), never
    its state files or modules: the TUI sits above the lab, and an import contract
    (``.importlinter``) forbids it every ``vnetdoctor.lab.*`` module, which is a rule
    import-linter can state (a path-level rule such as "do not read the lab's state
    directory" it cannot).
    """
    from vnetdoctor.lab import running_labs

    try:
        running = running_labs()
    except OSError as exc:
        return [], set(), [f"lab: cannot read {exc.filename}: {exc.strerror}"]
    out: list[Target] = []
    owned: set[str] = set()
    for lab in running:
        owned.update(lab.namespaces)
        scenario, prefix = lab.scenario, lab.prefix
        if scenario is None:
            continue
        request = scenario.request(prefix)  # a Request, never argv parsed back
        out.append(
            Target(
                kind="lab",
                name=f"{prefix} {lab.scenario_name}",
                state="up",
                addresses=(request.target,) if request.target else (),
                host=str(request.host),
                guest=str(request.guest) if request.guest else None,
                target=request.target,
                from_side=request.from_side,
                port=request.port,
                # A healthy baseline injects no cause (None): say so rather than nothing.
                note=getattr(scenario, "cause", None) or "start.note_healthy_lab",
            )
        )
    return out, owned, []


def netns_targets(exclude: set[str]) -> list[Target]:
    """Other named network namespaces: each can be the guest side of a walk."""
    try:
        names = sorted(os.listdir(NETNS_DIR))
    except OSError:
        return []
    return [Target(kind="netns", name=n, guest=f"netns:{n}") for n in names if n not in exclude]


def discover() -> tuple[list[Target], list[str]]:
    """Everything the Start screen lists, and one line per source that could not be read."""
    targets: list[Target] = []
    notes: list[str] = []
    lab, owned, lab_notes = lab_targets()
    targets += lab
    notes += lab_notes
    for found, more in (libvirt_targets(), platform_targets()):
        targets += found
        notes += more
    targets += netns_targets(owned)
    return targets, notes
