"""Stand-ins for exactly what libvirt's test driver lacks: the guest agent and DHCP leases.

Everything else in the libvirt tests is the real libvirt test driver reading the
XML documents in ``tests/data/libvirt``. The fake agent answers the way
qemu-guest-agent does (``guest-exec`` → a pid; ``guest-exec-status`` → not
exited, then exited with base64 output), from output recorded with the very
argv the probes run (``ip -j …`` in a namespace shaped like a guest).
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from vnetdoctor.probes.guest_agent import AgentCommandError, AgentUnavailable
from vnetdoctor.probes.iproute_json import IP4_ROUTE, IP6_ROUTE, IP_ADDR, IP_LINK, IP_NEIGH
from vnetdoctor.probes.vantage import Vantage

DATA = Path(__file__).resolve().parents[2] / "data" / "libvirt"
LAB_XML = DATA / "lab.xml"
LAB_URI = f"test://{LAB_XML}"
AGENT = DATA / "agent"


def recorded(name: str) -> str:
    return (AGENT / name).read_text()


def recorded_programs() -> dict[tuple[str, ...], tuple[int, str, str]]:
    """argv → (exit code, stdout, stderr) recorded from a guest-shaped namespace."""
    return {
        tuple(IP_LINK): (0, recorded("ip_link.json"), ""),
        tuple(IP_ADDR): (0, recorded("ip_addr.json"), ""),
        tuple(IP4_ROUTE): (0, recorded("ip4_route.json"), ""),
        tuple(IP6_ROUTE): (0, recorded("ip6_route.json"), ""),
        tuple(IP_NEIGH): (0, recorded("ip_neigh.json"), ""),
    }


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class FakeAgent:
    """An AgentTransport answering like qemu-ga from recorded data."""

    def __init__(
        self,
        programs: Mapping[tuple[str, ...], tuple[int, str, str]] | None = None,
        *,
        interfaces: Any = None,
        polls_before_exit: int = 2,
        unavailable: str | None = None,
        exec_error: str | None = None,
        signal: int | None = None,
        never_exits: bool = False,
        truncated: bool = False,
    ) -> None:
        self.programs = dict(programs if programs is not None else recorded_programs())
        self.interfaces = (
            interfaces if interfaces is not None else json.loads(recorded("network_get_interfaces.json"))
        )
        self.polls_before_exit = polls_before_exit
        self.unavailable = unavailable
        self.exec_error = exec_error
        self.signal = signal
        self.never_exits = never_exits
        self.truncated = truncated
        self.calls: list[tuple[str, str, Any]] = []
        self._pids = itertools.count(4100)
        self._procs: dict[int, list[Any]] = {}

    def command(self, vantage: Vantage, payload: Mapping[str, Any], timeout: float) -> Any:
        execute = payload["execute"]
        args = payload.get("arguments") or {}
        self.calls.append((str(vantage), execute, args))
        if self.unavailable is not None:
            raise AgentUnavailable(self.unavailable)
        if execute == "guest-network-get-interfaces":
            return self.interfaces
        if execute == "guest-exec":
            if self.exec_error is not None:
                raise AgentCommandError(self.exec_error)
            argv = (args["path"], *args.get("arg", ()))
            if argv not in self.programs:
                raise AgentCommandError(
                    f"unable to execute QEMU agent command 'guest-exec': Failed to execute child "
                    f"process “{args['path']}” (No such file or directory)"
                )
            pid = next(self._pids)
            self._procs[pid] = [argv, self.polls_before_exit]
            return {"pid": pid}
        if execute == "guest-exec-status":
            proc = self._procs[args["pid"]]
            if self.never_exits or proc[1] > 0:
                proc[1] -= 1
                return {"exited": False}
            code, out, err = self.programs[proc[0]]
            status: dict[str, Any] = {"exited": True, "out-data": _b64(out), "err-data": _b64(err)}
            if self.signal is not None:
                status["signal"] = self.signal
            else:
                status["exitcode"] = code
            if self.truncated:
                status["out-truncated"] = True
            return status
        raise AgentCommandError(f"The command {execute} has not been found")

    def executed(self) -> list[tuple[str, ...]]:
        return [(a["path"], *a.get("arg", ())) for _, e, a in self.calls if e == "guest-exec"]


class FakeLeases:
    """A LeaseSource with dnsmasq's leases as libvirt's DHCPLeases returns them."""

    def __init__(self, leases: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        self.leases_by_network = {k: list(v) for k, v in leases.items()}
        self.asked: list[str] = []

    def leases(self, conn: Any, uri: str, network: str) -> Sequence[Mapping[str, Any]]:
        self.asked.append(network)
        return self.leases_by_network.get(network, [])


def lease(mac: str, ip: str, *, prefix: int = 24, hostname: str = "", iface: str = "virbr0") -> dict[str, Any]:
    return {
        "iface": iface,
        "expirytime": 1_900_000_000,
        "type": 0,
        "mac": mac,
        "iaid": None,
        "ipaddr": ip,
        "prefix": prefix,
        "hostname": hostname or None,
        "clientid": f"01:{mac}",
    }


def lab(domain: str) -> str:
    """The vantage of a domain of ``lab.xml`` on the test driver."""
    return f"libvirt:{domain}@{LAB_URI}"


@contextlib.contextmanager
def installed_leases() -> Iterator[FakeLeases]:
    """A FakeLeases as the lease source for the block (libvirt's own again afterwards)."""
    from vnetdoctor.probes import libvirt_conn

    fake = FakeLeases({})
    previous = libvirt_conn.set_lease_source(fake)
    try:
        yield fake
    finally:
        libvirt_conn.set_lease_source(previous)
