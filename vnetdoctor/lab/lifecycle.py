"""Bringing a scenario up and taking a lab down again, completely.

``up`` records what it is about to create *before* creating it, builds the
topology, starts the services, injects the fault and returns a
:class:`LabInstance`; if any step fails it takes everything down again and
re-raises, so a half-built lab never survives. ``down(prefix)`` removes exactly
the namespaces ``PREFIX + role`` (roles in :data:`~.topology.ROLES`), their
``/etc/netns`` directories, the lab's own server processes and the state file,
and nothing else: a prefix ``vnd-`` never matches a test lab ``vnd-t123x0-``,
because ``t123x0-host`` is not a role.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Self

from vnetdoctor.knowledge.model import Request
from vnetdoctor.knowledge.text import join_clauses, tr
from vnetdoctor.probes.nsexec import call_in
from vnetdoctor.probes.vantage import Vantage

from . import kernel, ops, state
from .checks import LAB_PORT, Check
from .ops import LabError
from .state import LabState, ProcessRecord
from .topology import GUEST, HOST, ROLES, Topology

if TYPE_CHECKING:
    from .scenarios import Scenario

SERVER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "servers.py")


class LabInstance:
    """A scenario that is up under a prefix: its names, its fault switch, its checks.

    Get one from :func:`up` or, in another process, from :meth:`attach`. The
    methods below the fault switch are the primitives topologies and faults use;
    each addresses a lab namespace by role, never the caller's own namespace.
    """

    def __init__(self, scenario: Scenario, lab_state: LabState) -> None:
        self.scenario = scenario
        self.topology: Topology = scenario.topo
        self.state = lab_state

    # --- what callers use --------------------------------------------------------------

    @property
    def prefix(self) -> str:
        return self.state.prefix

    def ns(self, role: str) -> str:
        if role not in ROLES:
            raise LabError(f"internal: unknown lab role {role!r}")
        return f"{self.prefix}{role}"

    @property
    def namespaces(self) -> list[str]:
        return list(self.state.namespaces)

    @property
    def injected(self) -> bool:
        return self.state.injected

    def request(self, lang: str = "en") -> Request:
        """What to diagnose in this lab (see :meth:`Scenario.request`)."""
        return self.scenario.request(self.prefix, lang)

    def diagnose_args(self) -> list[str]:
        """The ``vnetdoctor diagnose`` arguments that point at this lab's fault."""
        return self.scenario.diagnose_args(self.prefix)

    def checks(self) -> list[Check]:
        """What the fault breaks (expect_ok False) and what it leaves working."""
        return self.scenario.checks(self.prefix)

    def healthy_checks(self) -> list[Check]:
        """Everything the topology does when nothing is broken (all expect_ok True)."""
        return self.scenario.healthy_checks(self.prefix)

    def inject(self) -> None:
        if self.state.injected:
            raise LabError(f"the fault of {self.scenario.name} is already injected")
        if self.scenario.inject is not None:
            self.scenario.inject(self)
        self.state.injected = True
        state.save(self.state)

    def revert(self) -> None:
        """Undo the fault; the healthy checks pass again afterwards."""
        if not self.state.injected:
            raise LabError(f"the fault of {self.scenario.name} is not injected")
        if self.scenario.revert is not None:
            self.scenario.revert(self)
        self.state.injected = False
        state.save(self.state)

    def down(self) -> list[str]:
        return down(self.prefix)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()

    @classmethod
    def attach(cls, prefix: str) -> LabInstance:
        """The lab that is up under ``prefix`` (from its state file)."""
        from .scenarios import SCENARIOS

        lab_state = state.load(prefix)
        if lab_state is None:
            raise LabError(tr("labcli.no_lab", prefix=repr(prefix)))
        scenario = SCENARIOS.get(lab_state.scenario)
        if scenario is None:
            raise LabError(f"the lab {prefix!r} runs an unknown scenario {lab_state.scenario!r}")
        return cls(scenario, lab_state)

    # --- primitives for topologies and faults -----------------------------------------

    def create(self, roles: Iterable[str], links: Iterable[str]) -> None:
        """Create namespaces (recorded first) and links directly inside them."""
        roles = list(roles)
        for role in roles:
            name = self.ns(role)
            if name not in self.state.namespaces:
                self.state.namespaces.append(name)
        if roles:
            state.save(self.state)
        ops.ip_root_batch([f"netns add {self.ns(r)}" for r in roles] + list(links))

    def destroy(self, role: str) -> None:
        """Remove one namespace the lab created (a fault's rogue guest, say)."""
        name = self.ns(role)
        if ops.netns_exists(name):
            ops.ip_root_batch([f"netns del {name}"])
        if name in self.state.namespaces:
            self.state.namespaces.remove(name)
            state.save(self.state)

    def ip(self, role: str, *lines: str) -> None:
        ops.ip_batch(self.ns(role), lines)

    def tc(self, role: str, *lines: str) -> None:
        ops.tc_batch(self.ns(role), lines)

    def bridge(self, role: str, *lines: str) -> None:
        ops.bridge_batch(self.ns(role), lines)

    def sysctl(self, role: str, settings: Iterable[tuple[str, str | int]] | Mapping[str, str | int]) -> None:
        items = settings.items() if isinstance(settings, Mapping) else settings
        ops.sysctl(self.ns(role), items)

    def read_sysctl(self, role: str, key: str) -> str:
        return ops.read_sysctl(self.ns(role), key)

    def sysctl_each_interface(self, role: str, leaf: str, value: int) -> None:
        """Set ``net.ipv4.conf.<every interface>.<leaf>`` in the namespace."""

        def names() -> list[str]:
            return sorted(os.listdir("/proc/sys/net/ipv4/conf"))

        ifnames = call_in(Vantage("netns", self.ns(role)), names)
        self.sysctl(role, [(f"net.ipv4.conf.{name}.{leaf}", value) for name in ifnames])

    def has_bridge_sysctls(self) -> bool:
        return kernel.missing((kernel.BR_NETFILTER_NETNS,)) is None

    def nft(self, role: str, script: str) -> None:
        ops.nft(self.ns(role), script)

    def run(self, role: str, argv: list[str], stdin: str | None = None, check: bool = True) -> str:
        return ops.run_in(self.ns(role), argv, stdin, check=check)

    def write_etc_netns(self, role: str, files: dict[str, str]) -> None:
        name = self.ns(role)
        if name not in self.state.etc_netns:
            self.state.etc_netns.append(name)
            state.save(self.state)
        state.write_etc_netns(name, files)

    def send_frames(self, role: str, ifname: str, frames: Iterable[bytes]) -> None:
        ops.send_frames(self.ns(role), ifname, frames)

    # --- services ----------------------------------------------------------------------

    def start_tcp_listener(self) -> None:
        def make() -> socket.socket:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("0.0.0.0", LAB_PORT))
            sock.listen(64)
            return sock

        self._start_server("tcp", GUEST, make, [])

    def start_dns_responder(self) -> None:
        topo = self.topology

        def make() -> socket.socket:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((topo.host_ip, 53))
            return sock

        records = [f"--record={name}={ip}" for name, ip in topo.dns_records().items()]
        self._start_server("dns", HOST, make, records)

    def start_announcer(self, role: str, ifname: str, mac: str, ip: str, gateway: str) -> None:
        def make() -> socket.socket:
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
            sock.bind((ifname, 0))
            return sock

        self._start_server(
            "announce", role, make,
            [f"--mac={mac}", f"--ip={ip}", f"--gateway={gateway}", "--interval=0.5"],
        )

    def stop_server(self, name: str) -> None:
        record = self.state.processes.get(name)
        if record is None:
            return
        if not state.stop_process(record):
            raise LabError(tr("labcli.server_not_stopped", name=name, pid=record.pid))
        del self.state.processes[name]
        state.save(self.state)

    def _start_server(self, name: str, role: str, make_socket, extra: list[str]) -> None:  # type: ignore[no-untyped-def]
        """Bind the socket inside the namespace, then start the server there holding it."""
        if name in self.state.processes and state.is_running(self.state.processes[name]):
            raise LabError(tr("labcli.server_running", name=name))
        ns = self.ns(role)
        inode = ops.netns_inode(ns)
        watch = [f"--watch={os.path.join('/run/netns', ns)}:{inode}"] if inode else []

        def spawn() -> subprocess.Popen[bytes]:
            sock = make_socket()
            try:
                fd = sock.fileno()
                argv = [sys.executable, "-I", "-S", SERVER_SCRIPT, name, "--lab", self.prefix,
                        "--fd", str(fd), *watch, *extra]
                return subprocess.Popen(
                    argv, pass_fds=(fd,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL, start_new_session=True,
                )
            finally:
                sock.close()  # the child holds its own copy

        try:
            popen = call_in(Vantage("netns", ns), spawn)
        except OSError as exc:
            raise LabError(tr("labcli.server_not_started", name=name, ns=ns, error=str(exc.strerror or exc))) from None
        state.register_child(popen)
        start = state.proc_start_time(popen.pid)
        if start is None:
            raise LabError(tr("labcli.server_exited", name=name, ns=ns))
        self.state.processes[name] = ProcessRecord(name, popen.pid, start, ns)
        state.save(self.state)


def lab_exists(prefix: str) -> list[str]:
    """What of a lab with this prefix exists now (namespaces, /etc/netns dirs, state)."""
    found = [f"netns {prefix}{r}" for r in ROLES if ops.netns_exists(f"{prefix}{r}")]
    found += [f"{state.ETC_NETNS}/{prefix}{r}" for r in ROLES
              if os.path.isdir(os.path.join(state.ETC_NETNS, f"{prefix}{r}"))]
    if os.path.exists(state.state_path(prefix)):
        found.append(state.state_path(prefix))
    return found


def up(name: str, prefix: str = "vnd-") -> LabInstance:
    """Build scenario ``name`` under ``prefix`` with its fault injected."""
    from .scenarios import SCENARIOS

    state.check_prefix(prefix)
    scenario = SCENARIOS.get(name)
    if scenario is None:
        raise LabError(tr("labcli.unknown_scenario", name=repr(name)))
    reason = scenario.available()
    if reason:
        raise LabError(tr("labcli.cannot_run", name=name, reason=reason))
    existing = lab_exists(prefix)
    if existing:
        raise LabError(tr("labcli.already_up", prefix=repr(prefix), what=existing[0],
                          command=shlex.join(["vnetdoctor", "lab", "down", "--prefix", prefix])))
    inst = LabInstance(scenario, LabState(prefix=prefix, scenario=name))
    state.save(inst.state)
    try:
        scenario.topo.build(inst)
        inst.inject()
    except BaseException:
        down(prefix)
        raise
    return inst


@dataclass
class DownReport:
    namespaces: list[str] = field(default_factory=list)
    etc_netns: list[str] = field(default_factory=list)
    processes: list[tuple[str, int]] = field(default_factory=list)  # (server name, pid)
    state_file: str = ""
    leftovers: list[str] = field(default_factory=list)  # temporary state files of dead writers
    problems: list[str] = field(default_factory=list)

    def lines(self, lang: str = "en") -> list[str]:
        out = [tr("labcli.stopped", lang, what=tr("labcli.server", lang, name=name, pid=pid))
               for name, pid in self.processes]
        out += [tr("labcli.deleted_netns", lang, name=n) for n in self.namespaces]
        out += [tr("labcli.removed", lang, path=d) for d in [*self.etc_netns, *self.leftovers]]
        if self.state_file:
            out.append(tr("labcli.removed", lang, path=self.state_file))
        return out


def down(prefix: str = "vnd-", lang: str = "en") -> list[str]:
    """Remove everything of the lab ``prefix``; what was removed, one line each.

    Processes go first: a process inside a namespace keeps it alive after its
    name is deleted. Raises LabError (after doing all it can) if something stays.
    """
    report = down_report(prefix)
    if report.problems:
        raise LabError(tr("labcli.left_behind", problems=join_clauses(report.problems)))
    return report.lines(lang)


def down_report(prefix: str) -> DownReport:
    state.check_prefix(prefix)
    report = DownReport()
    lab_state = state.load(prefix)
    records: list[ProcessRecord] = list(lab_state.processes.values()) if lab_state else []
    known = {(r.pid, r.start) for r in records}
    records += [r for r in state.find_marked_processes(prefix, SERVER_SCRIPT) if (r.pid, r.start) not in known]
    for record in records:
        if state.stop_process(record):
            report.processes.append((record.name, record.pid))
        else:
            report.problems.append(tr("labcli.process_stays", pid=record.pid))
    names = [f"{prefix}{r}" for r in ROLES if ops.netns_exists(f"{prefix}{r}")]
    if names:
        try:
            ops.ip_root_batch([f"netns del {n}" for n in names])
        except LabError as exc:
            report.problems.append(exc.args[0] if exc.args else str(exc))
        for n in names:
            if ops.netns_exists(n):
                report.problems.append(tr("labcli.netns_stays", name=n))
            else:
                report.namespaces.append(n)
    for role in ROLES:
        name = f"{prefix}{role}"
        if os.path.isdir(os.path.join(state.ETC_NETNS, name)):
            if state.remove_etc_netns(name):
                report.etc_netns.append(os.path.join(state.ETC_NETNS, name))
            else:
                report.problems.append(tr("labcli.etc_stays", path=os.path.join(state.ETC_NETNS, name)))
    report.leftovers = state.sweep_leftovers(prefix)
    if state.remove(prefix):
        report.state_file = state.state_path(prefix)
    return report
