"""Is the target a host at all? The check ``diagnose``, ``tui``, ``demo`` and the Start screen share.

The classification itself is ``probes.target_kind.classify`` (the active probes
use it too, as a last line). This module adds what only the entry points know:
the sender's connected subnets, so that a subnet's network or broadcast address
is refused too, and the operator's words for each kind, in English and Simplified
Chinese (``data/evidence.toml``, section ``target``). Every entry point calls
:func:`not_a_host` before any packet is sent and turns a result into one line and
exit status 2.

The subnets are read by ``probes.subnets`` (no privilege locally; a namespace
needs CAP_SYS_ADMIN, and a vantage that cannot be read is simply not compared
with), on a plain netlink socket: this runs before the first probe, where
pyroute2's import would cost a fifth of the start-up budget.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from vnetdoctor.probes.subnets import connected_subnets
from vnetdoctor.probes.target_kind import KINDS, ConnectedSubnet, NotAHost, classify
from vnetdoctor.probes.vantage import Vantage

from .text import tr


def message(found: NotAHost, lang: str = "en") -> str:
    """One line: ``198.18.0.255 is the broadcast address of 198.18.0.0/24 on br0, not a host``."""
    a, n, d = found.address, found.network, found.dev
    # Literal keys, one per kind: the evidence-text tests prove each exists in both languages.
    if found.kind == "unspecified":
        return tr("target.unspecified", lang, address=a)
    if found.kind == "this_network":
        return tr("target.this_network", lang, address=a)
    if found.kind == "loopback":
        return tr("target.loopback", lang, address=a)
    if found.kind == "limited_broadcast":
        return tr("target.limited_broadcast", lang, address=a)
    if found.kind == "link_local_multicast":
        return tr("target.link_local_multicast", lang, address=a)
    if found.kind == "multicast":
        return tr("target.multicast", lang, address=a)
    if found.kind == "subnet_network":
        return tr("target.subnet_network", lang, address=a, network=n, dev=d)
    return tr("target.subnet_broadcast", lang, address=a, network=n, dev=d)


def not_a_host(address: str, senders: Iterable[Vantage | None] = ()) -> NotAHost | None:
    """The one check every entry point makes: by kind first, then against the senders' subnets.

    ``senders`` are the vantages whose connected subnets count (the host vantage,
    and the guest's when it sends); the subnets are only read when the address
    passed the checks by kind, so a loopback target costs no probe.
    """
    found = classify(address)
    if found is not None:
        return found
    try:
        if ipaddress.ip_address(address).version != 4:
            return None
    except ValueError:
        return None
    seen: set[str] = set()
    for vantage in senders:
        if vantage is None or str(vantage) in seen:
            continue
        seen.add(str(vantage))
        found = classify(address, connected_subnets(vantage))
        if found is not None:
            return found
    return None


__all__ = ["KINDS", "ConnectedSubnet", "NotAHost", "classify", "connected_subnets", "message", "not_a_host"]
