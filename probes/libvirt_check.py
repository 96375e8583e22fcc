"""Can a ``libvirt:DOMAIN@URI`` vantage be used? Asked before a walk starts.

Why a module of its own: the request parser (``vnetdoctor.session.request``) asks
this of every ``--guest libvirt:…`` before ``diagnose`` starts, to turn an unknown
domain or a ``test:///`` file that does not exist into a one-line error with exit
status 2. That question needs the connection helpers only, not the libvirt probes,
so asking it registers no probe. libvirt-python itself still loads lazily, when a
connection is opened.
"""

from __future__ import annotations

from .base import Skip
from .libvirt_conn import (
    LibvirtLookupError,
    connection,
    first_line,
    import_libvirt,
    is_test_uri,
    list_domains,
    uri_for,
)
from .vantage import Vantage, VantageError


def check_libvirt_vantage(vantage: Vantage) -> Vantage:
    """Raise :class:`VantageError` when a ``libvirt:`` vantage cannot be used (for the CLI).

    One line for the operator: the connection failed, or the domain is unknown.
    """
    if vantage.kind != "libvirt":
        return vantage
    uri = uri_for(vantage)
    try:
        conn = connection(uri)
    except Skip as exc:
        if is_test_uri(uri):
            raise VantageError(str(exc)) from None  # a test:/// file path is the operator's typo
        # libvirtd down, no libvirt-python: not bad input. The platform step is skipped
        # with this reason and the network walk still runs from the other vantages.
        return vantage
    try:
        list_domains(conn, uri, vantage.name)
    except LibvirtLookupError as exc:
        raise VantageError(str(exc)) from None
    except import_libvirt().libvirtError as exc:  # any other refusal: still one line
        raise VantageError(f"{vantage}: {first_line(exc)}") from None
    return vantage


def check_domain(vantage: Vantage) -> str | None:
    """The one-line problem with a ``libvirt:`` vantage, or None when it can be used.

    What ``diagnose`` asks before it starts: an unknown domain (or a ``test:///``
    file that does not exist) is bad input (exit 2). An unreachable libvirtd is
    not: the walk goes on and the platform step is skipped with the reason.
    """
    try:
        check_libvirt_vantage(vantage)
    except VantageError as exc:
        return str(exc)
    return None
