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
from vnetdoctor.knowledge.text import probe_reason, tr
from vnetdoctor.probes.base import SKIPPED, Observation, run_probe
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


def _note(source: str, obs: Observation | None, lang: str, reason: str = "") -> str:
    """``libvirt: skipped: needs libvirt-python``: a source that could not be read, in ``lang``."""
    skipped = obs is None or obs.status == SKIPPED
    why = probe_reason(reason or (obs.reason if obs else "") or (obs.status if obs else ""), lang)
    text = tr("obs.skipped" if skipped else "obs.error", lang, reason=why)
    return tr("start.source_note", lang, source=tr(f"start.source_{source}", lang), text=text)


def libvirt_targets(lang: str = "en", connect: str | None = None,
                    host: str = "local") -> tuple[list[Target], list[str]]:
    """Domains with their state, MACs (XML) and IPv4 addresses (DHCP leases).

    At ``connect`` (``--connect``), else libvirt's own default: ``LIBVIRT_DEFAULT_URI``,
    then ``qemu:///system``. A domain found at an explicit URI keeps it in its vantage
    (``libvirt:NAME@URI``) so the walk talks to the same daemon; ``host`` (``--host``) is
    the host side of every target.
    """
    import vnetdoctor.probes.libvirt  # noqa: F401 - registers the libvirt probes (libvirt itself loads lazily)
    from vnetdoctor.probes.libvirt_conn import uri_for
    uri = uri_for(LOCAL, connect)
    doms = _probe("libvirt.domains", uri=uri)
    if not doms.ok:
        why = doms.reason or doms.status
        # "cannot connect to URI: …" names the URI already; prefixing it again also hid the
        # reason from its translation (a reason is translated only as a whole clause).
        return [], [_note("libvirt", doms, lang, why if uri in why else f"{uri}: {why}")]
    notes: list[str] = []
    ifaces = _probe("libvirt.interfaces", uri=uri)
    macs: dict[str, list[str]] = {}
    if ifaces.ok:
        for row in ifaces.rows:
            macs.setdefault(row.domain, []).append(row.mac)
    else:
        notes.append(_note("libvirt_interfaces", ifaces, lang))
    ips: dict[str, list[str]] = {}
    leases = _probe("libvirt.leases", uri=uri)
    if leases.ok:
        for row in leases.rows:
            ips.setdefault(row.mac.lower(), []).append(row.ip)
    else:
        notes.append(_note("libvirt_leases", leases, lang))
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
                host=host,
                guest=f"libvirt:{dom.name}@{uri}" if connect else f"libvirt:{dom.name}",
                target=hosts[0] if hosts else None,
                note="" if dom.agent_channel else "start.note_no_agent",
            )
        )
    return out, notes


def platform_targets(lang: str = "en") -> tuple[list[Target], list[str]]:
    """VMware ``vmnetN`` and VirtualBox ``vboxnetN`` host interfaces, with their addresses."""
    links = _probe("link.list")
    if not links.ok:
        return [], [_note("platforms", links, lang)]
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


def lab_targets(lang: str = "en") -> tuple[list[Target], set[str], list[str]]:
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
        why = tr("start.lab_unreadable", lang, path=exc.filename, error=exc.strerror)
        return [], set(), [_note("lab", None, lang, why)]
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


def discover(lang: str = "en", connect: str | None = None, host: str = "local") -> tuple[list[Target], list[str]]:
    """Everything the Start screen lists, and one line per source that could not be read
    (in ``lang``).

    ``connect`` and ``host`` are the command line's ``--connect`` and ``--host``: libvirt
    is asked at that URI, and its guests get that host side. (With ``--guest`` the walk
    opens on that guest directly.)
    """
    targets: list[Target] = []
    notes: list[str] = []
    lab, owned, lab_notes = lab_targets(lang)
    targets += lab
    notes += lab_notes
    for found, more in (libvirt_targets(lang, connect, host), platform_targets(lang)):
        targets += found
        notes += more
    targets += netns_targets(owned)
    return targets, notes
