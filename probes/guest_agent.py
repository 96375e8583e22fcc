"""Commands inside a libvirt guest through qemu-guest-agent: the ``libvirt:`` vantage's runner.

A guest has no network namespace on this host, so ``run_command`` on a libvirt
vantage comes here: ``guest-exec`` starts the program inside the guest,
``guest-exec-status`` is polled until it exits (or the deadline passes), and the
base64 output is decoded into the same :class:`~.nsexec.CommandResult` a
namespace gives. The link/addr/route/neigh/sysctl/firewall probes therefore
parse the guest's ``ip -j …`` exactly as they parse a namespace's.

Failures are told apart by the result, never by an exception:

- no agent at all (no channel in the XML, agent not running, domain shut off,
  a driver without agents such as the test driver): return code 127 and stderr
  starting ``no guest agent`` — probes turn it into ``skipped: no guest agent…``;
- the agent refuses ``guest-exec`` (blocked with ``--block-rpcs``): 127 and
  ``no guest agent exec: …``, also a skip;
- the program is missing inside the guest: 127 and ``NAME: command not found…``;
- the deadline passed: 124, like coreutils' ``timeout``.

This module imports nothing heavy: libvirt loads only when a command is sent.
The transport is a small interface so a fake answering with recorded agent JSON
can stand in for the test driver, which has no agent.
"""

from __future__ import annotations

import base64
import json
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from .nsexec import CommandResult
from .rows import AddrRow
from .rows_libvirt import GuestLinkRow
from .vantage import Vantage

NO_AGENT = "no guest agent"


class AgentUnavailable(Exception):
    """The agent cannot be reached at all; the message says why."""


class AgentCommandError(Exception):
    """The agent answered, with an error (the program could not be spawned, …)."""


class AgentTransport(Protocol):
    """Sends one agent command to the guest behind a vantage and returns its ``return`` value."""

    def command(self, vantage: Vantage, payload: Mapping[str, Any], timeout: float) -> Any:
        ...


class LibvirtAgentTransport:
    """``virDomainQemuAgentCommand`` (libvirt_qemu): what ``virsh qemu-agent-command`` does."""

    def command(self, vantage: Vantage, payload: Mapping[str, Any], timeout: float) -> Any:
        from .base import Skip
        from .libvirt_conn import (
            LibvirtLookupError,
            connection,
            error_code,
            first_line,
            import_libvirt,
            lookup_domain,
            uri_for,
        )

        uri = uri_for(vantage)
        try:
            libvirt = import_libvirt()
            conn = connection(uri)
            dom = lookup_domain(conn, uri, vantage.name)
        except (Skip, LibvirtLookupError) as exc:
            raise AgentUnavailable(str(exc)) from None
        try:
            import libvirt_qemu  # lazily, like libvirt itself
        except ImportError as exc:  # third-party (libvirt-python's QEMU half): may be absent
            raise AgentUnavailable(f"needs libvirt_qemu ({exc})") from None
        unavailable = {
            libvirt.VIR_ERR_AGENT_UNRESPONSIVE,
            libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED,  # "QEMU guest agent is not configured"
            libvirt.VIR_ERR_OPERATION_INVALID,  # "domain is not running"
            libvirt.VIR_ERR_NO_SUPPORT,  # the driver has no agent (test driver)
            libvirt.VIR_ERR_NO_DOMAIN,
            getattr(libvirt, "VIR_ERR_OPERATION_DENIED", -1),  # read-only connection
        }
        try:
            answer = libvirt_qemu.qemuAgentCommand(
                dom, json.dumps(dict(payload)), max(1, math.ceil(timeout)), 0
            )
        except libvirt.libvirtError as exc:
            if error_code(exc) in unavailable:
                raise AgentUnavailable(first_line(exc)) from None
            raise AgentCommandError(first_line(exc)) from None
        data = json.loads(answer) if answer else {}
        if isinstance(data, dict) and "error" in data:
            err = data["error"]
            raise AgentCommandError(str(err.get("desc", err) if isinstance(err, dict) else err))
        return data.get("return") if isinstance(data, dict) else data


_transport: AgentTransport = LibvirtAgentTransport()


def transport() -> AgentTransport:
    return _transport


def set_agent_transport(new: AgentTransport | None) -> AgentTransport:
    """Install another transport (None restores libvirt's); returns the previous one."""
    global _transport
    previous = _transport
    _transport = new if new is not None else LibvirtAgentTransport()
    _os_info.clear()  # another transport may be another guest
    return previous


# --- guest-get-osinfo: Linux or Windows -----------------------------------------------

_os_info: dict[str, Mapping[str, Any]] = {}


def os_info(vantage: Vantage) -> Mapping[str, Any]:
    """The agent's ``guest-get-osinfo`` answer ({} when it cannot tell), asked once per guest.

    A guest does not change its operating system between two probes of one run; the
    cache is dropped when the transport changes.
    """
    key = str(vantage)
    if key not in _os_info:
        try:
            answer = _transport.command(vantage, {"execute": "guest-get-osinfo"}, 5.0)
        except AgentUnavailable:
            return {}  # not cached: the agent may come up later in the run
        except AgentCommandError:
            answer = {}  # an agent without guest-get-osinfo (older than 2.10): not Windows-aware
        _os_info[key] = answer if isinstance(answer, Mapping) else {}
    return _os_info[key]


def is_windows(vantage: Vantage) -> bool:
    """Does the guest run Windows? (qemu-ga for Windows reports ``id`` "mswindows")."""
    if vantage.kind != "libvirt":
        return False
    info = os_info(vantage)
    return str(info.get("id", "")).lower() == "mswindows" or "windows" in str(info.get("name", "")).lower()


def agent_command(vantage: Vantage, payload: Mapping[str, Any], timeout: float = 5.0) -> Any:
    return _transport.command(vantage, payload, timeout)


def _disabled(message: str) -> bool:
    text = message.lower()
    return "disabled" in text or "not allowed" in text or "blocked" in text


def _not_found(message: str) -> bool:
    text = message.lower()
    return "no such file" in text or "not found" in text or "failed to execute child" in text


def run_in_guest(vantage: Vantage, argv: Sequence[str], timeout: float = 5.0) -> CommandResult:
    """Run ``argv`` inside the guest and wait for it (the ``libvirt`` guest runner)."""
    args = tuple(argv)
    if not args:
        return CommandResult(args, 127, "", "empty command")
    deadline = time.monotonic() + timeout
    exec_payload = {
        "execute": "guest-exec",
        "arguments": {"path": args[0], "arg": list(args[1:]), "capture-output": True},
    }
    try:
        started = _transport.command(vantage, exec_payload, timeout)
    except AgentUnavailable as exc:
        return CommandResult(args, 127, "", f"{NO_AGENT}: {exc}")
    except AgentCommandError as exc:
        msg = str(exc)
        if _disabled(msg):
            return CommandResult(args, 127, "", f"{NO_AGENT} exec: {msg}")
        if _not_found(msg):
            return CommandResult(args, 127, "", f"{args[0]}: command not found in the guest ({msg})")
        return CommandResult(args, 126, "", f"guest-exec of {args[0]} failed: {msg}")
    pid = started.get("pid") if isinstance(started, Mapping) else None
    if pid is None:
        return CommandResult(args, 126, "", f"guest-exec of {args[0]} gave no pid: {started!r}")

    delay = 0.005
    status: Mapping[str, Any] = {}
    while True:
        remaining = deadline - time.monotonic()
        try:
            status = _transport.command(
                vantage,
                {"execute": "guest-exec-status", "arguments": {"pid": pid}},
                max(remaining, 1.0),
            ) or {}
        except AgentUnavailable as exc:
            return CommandResult(args, 127, "", f"{NO_AGENT}: {exc}")
        except AgentCommandError as exc:
            return CommandResult(args, 126, "", f"guest-exec-status of {args[0]} failed: {exc}")
        if status.get("exited"):
            break
        if remaining <= 0:
            # The agent has no way to kill it; it keeps running in the guest.
            return CommandResult(
                args, 124, _b64(status.get("out-data")), f"{args[0]}: timed out after {timeout}s in the guest"
            )
        # Polling the guest is the only way to learn it exited; back off to stay cheap.
        time.sleep(min(delay, max(remaining, 0.0)))
        delay = min(delay * 2, 0.1)

    out = _b64(status.get("out-data"))
    err = _b64(status.get("err-data"))
    if status.get("out-truncated") or status.get("err-truncated"):
        err += "\n(output truncated by the guest agent)"
    if "signal" in status and status.get("signal") is not None:
        code = 128 + int(status["signal"])
    else:
        code = int(status.get("exitcode", 0) or 0)
    return CommandResult(args, code, out, err)


def _b64(data: Any) -> str:
    if not data:
        return ""
    return base64.b64decode(data).decode("utf-8", errors="replace")


# --- guest-network-get-interfaces -----------------------------------------------------


def parse_network_interfaces(answer: Any) -> tuple[list[GuestLinkRow], list[AddrRow]]:
    """The agent's interface list → link and address rows (LinkRow/AddrRow field names)."""
    links: list[GuestLinkRow] = []
    addrs: list[AddrRow] = []
    for item in answer or ():
        name = str(item.get("name", ""))
        ips = item.get("ip-addresses") or ()
        rendered_v4: list[str] = []
        rendered_v6: list[str] = []
        for ip in ips:
            family = "inet" if ip.get("ip-address-type") == "ipv4" else "inet6"
            address = str(ip.get("ip-address", ""))
            prefix = int(ip.get("prefix", 0) or 0)
            (rendered_v4 if family == "inet" else rendered_v6).append(f"{address}/{prefix}")
            addrs.append(
                AddrRow(
                    ifname=name,
                    family=family,
                    address=address,
                    prefixlen=prefix,
                    scope=_scope(family, address),
                )
            )
        stats = item.get("statistics") or {}
        links.append(
            GuestLinkRow(
                name=name,
                mac=str(item.get("hardware-address", "")).lower(),
                addresses=tuple(rendered_v4 + rendered_v6),
                rx_packets=int(stats.get("rx-packets", 0)),
                tx_packets=int(stats.get("tx-packets", 0)),
                rx_errors=int(stats.get("rx-errs", 0)),
                tx_errors=int(stats.get("tx-errs", 0)),
                rx_dropped=int(stats.get("rx-dropped", 0)),
                tx_dropped=int(stats.get("tx-dropped", 0)),
            )
        )
    return links, addrs


def _scope(family: str, address: str) -> str:
    """The scope ``ip addr`` would show: the agent does not report it."""
    import ipaddress

    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return ""
    if ip.is_loopback:
        return "host"
    if ip.is_link_local:
        return "link"
    return "global"
