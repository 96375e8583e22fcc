"""Connections to libvirt, and the seams where the test driver and a real daemon differ.

libvirt-python is imported here lazily, the first time a probe needs it, so that
start-up stays fast and a machine without it still runs every other probe.
Connections are cached per URI: opening ``qemu:///system`` costs a socket
handshake, and the engine asks several libvirt probes at once. A dead cached
connection is reopened.

The libvirt *test* driver has no DHCP leases and no guest agent. Those two calls
sit behind small interfaces (:class:`LeaseSource` here, the agent transport in
``guest_agent``) so that a real daemon plugs in unchanged and unit tests can
substitute recorded answers for exactly those calls and nothing else.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit

from .base import Skip
from .vantage import Vantage

DEFAULT_URI = "qemu:///system"

_lock = threading.Lock()
_conns: dict[str, Any] = {}
_quiet = False
_closed_at_exit = False


class LibvirtLookupError(LookupError):
    """A domain or network named by the operator does not exist on that connection."""


def import_libvirt() -> Any:
    """The ``libvirt`` module, or ``Skip`` saying it is missing.

    libvirt prints every error to stderr by default; the TUI draws on stderr, so
    the default handler is replaced by one that keeps quiet (errors still raise).
    """
    global _quiet
    try:
        import libvirt  # lazily on purpose: start-up stays fast
    except ImportError as exc:  # third-party C extension: absent or built against a missing libvirt.so
        raise Skip(f"needs libvirt-python ({exc})") from None
    if not _quiet:
        libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
        _quiet = True
    return libvirt


def uri_for(vantage: Vantage, override: str | None = None) -> str:
    """The connection URI a probe on ``vantage`` talks to.

    A ``libvirt:DOMAIN@URI`` vantage names its URI; otherwise libvirt's own
    ``LIBVIRT_DEFAULT_URI`` convention, then ``qemu:///system``.
    """
    if override:
        return override
    if vantage.kind == "libvirt" and vantage.uri:
        return vantage.uri
    return os.environ.get("LIBVIRT_DEFAULT_URI") or DEFAULT_URI


def is_test_uri(uri: str) -> bool:
    return uri.split(":", 1)[0] == "test"


def is_remote_uri(uri: str) -> bool:
    """True when the hypervisor is another machine (its taps are not in our link list)."""
    if is_test_uri(uri):
        return False
    parts = urlsplit(uri)
    return bool(parts.hostname) and parts.hostname not in ("localhost", "127.0.0.1", "::1")


def first_line(exc: BaseException) -> str:
    text = ""
    getter = getattr(exc, "get_error_message", None)
    if callable(getter):
        text = getter() or ""
    text = text or str(exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def error_code(exc: BaseException) -> int | None:
    getter = getattr(exc, "get_error_code", None)
    return getter() if callable(getter) else None


def connection(uri: str) -> Any:
    """A live connection to ``uri`` (cached), or ``Skip('cannot connect to URI: why')``.

    Read-write first (the guest agent needs it), read-only as a fallback so that
    an unprivileged operator still sees the inventory.
    """
    libvirt = import_libvirt()
    with _lock:
        conn = _conns.get(uri)
        if conn is not None:
            try:
                if conn.isAlive():
                    return conn
            except libvirt.libvirtError:
                pass
            _conns.pop(uri, None)
        if is_test_uri(uri):
            path = urlsplit(uri).path
            # libxml2 would print its own warning to stderr for a missing file.
            if path not in ("/default", "") and not os.path.isfile(path):
                raise Skip(f"cannot connect to {uri}: no such file {path}")
        try:
            conn = libvirt.open(uri)
        except libvirt.libvirtError as exc:
            try:
                conn = libvirt.openReadOnly(uri)
            except libvirt.libvirtError:
                raise Skip(f"cannot connect to {uri}: {first_line(exc)}") from None
        global _closed_at_exit
        if not _closed_at_exit:  # close them all before the interpreter takes libvirt apart
            atexit.register(forget)
            _closed_at_exit = True
        _conns[uri] = conn
        return conn


def forget(uri: str | None = None) -> None:
    """Drop cached connections (all, or one URI): the next probe reconnects."""
    with _lock:
        uris = list(_conns) if uri is None else [uri]
        for key in uris:
            conn = _conns.pop(key, None)
            if conn is not None:
                with contextlib.suppress(import_libvirt().libvirtError):
                    conn.close()  # a dead connection may refuse; it is dropped either way


def driver_name(conn: Any) -> str:
    try:
        return str(conn.getType())
    except import_libvirt().libvirtError:
        return ""


def is_test_driver(conn: Any) -> bool:
    return driver_name(conn).upper() == "TEST"


def lookup_domain(conn: Any, uri: str, name: str) -> Any:
    libvirt = import_libvirt()
    try:
        return conn.lookupByName(name)
    except libvirt.libvirtError as exc:
        if error_code(exc) == libvirt.VIR_ERR_NO_DOMAIN:
            raise LibvirtLookupError(f"no libvirt domain {name!r} on {uri}") from None
        raise


def list_domains(conn: Any, uri: str, name: str | None = None) -> list[Any]:
    """All domains sorted by name, or the one named (LibvirtLookupError when missing)."""
    if name:
        return [lookup_domain(conn, uri, name)]
    return sorted(conn.listAllDomains(0), key=lambda d: d.name())


def list_networks(conn: Any) -> list[Any]:
    return sorted(conn.listAllNetworks(0), key=lambda n: n.name())


# --- DHCP leases: the call the test driver lacks ------------------------------------------


class LeaseSource(Protocol):
    """Where DHCP leases come from: libvirt's ``DHCPLeases`` on a real daemon."""

    def leases(self, conn: Any, uri: str, network: str) -> Sequence[Mapping[str, Any]]:
        """libvirt's lease dicts (``mac``, ``ipaddr``, ``prefix``, ``hostname``,
        ``expirytime``, ``iface``, ``clientid``) for one network; ``Skip`` when the
        connection cannot list leases at all."""


class LibvirtLeaseSource:
    """``virNetworkGetDHCPLeases``: what ``virsh net-dhcp-leases`` shows."""

    def leases(self, conn: Any, uri: str, network: str) -> Sequence[Mapping[str, Any]]:
        libvirt = import_libvirt()
        try:
            net = conn.networkLookupByName(network)
        except libvirt.libvirtError as exc:
            if error_code(exc) == libvirt.VIR_ERR_NO_NETWORK:
                raise LibvirtLookupError(f"no libvirt network {network!r} on {uri}") from None
            raise
        try:
            return list(net.DHCPLeases())
        except libvirt.libvirtError as exc:
            if error_code(exc) == libvirt.VIR_ERR_NO_SUPPORT:
                if is_test_driver(conn):
                    raise Skip("the libvirt test driver has no DHCP leases") from None
                raise Skip(f"{uri} cannot list DHCP leases: {first_line(exc)}") from None
            raise


_lease_source: LeaseSource = LibvirtLeaseSource()


def lease_source() -> LeaseSource:
    return _lease_source


def set_lease_source(source: LeaseSource | None) -> LeaseSource:
    """Install another lease source (None restores libvirt's); returns the previous one."""
    global _lease_source
    previous = _lease_source
    _lease_source = source if source is not None else LibvirtLeaseSource()
    return previous
