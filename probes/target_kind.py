"""Is an address a host's at all? The one classification every entry point and probe uses.

A diagnosis pings its target and reads the answers as one machine's. An address
that is not one machine's (broadcast, multicast, loopback, unspecified, a
subnet's network or broadcast address) gets answers from many hosts, from
itself or from nobody, and every step would then name a confident wrong cause.
:func:`classify` says which kind of non-host an address is. It lives on the
ground floor so that the active probes refuse such a destination themselves
(``safety.checked_ipv4``) as a last line behind the entry points, which call it
through ``knowledge.target_kind.not_a_host`` (that adds the sender's subnets and
the operator's words).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# The kinds, in the order they are tested; each has a ``target.<kind>`` text in knowledge.
KINDS = ("unspecified", "this_network", "loopback", "limited_broadcast", "link_local_multicast", "multicast",
         "subnet_network", "subnet_broadcast")

_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
_LIMITED_BROADCAST = ipaddress.IPv4Address("255.255.255.255")
_V4_LINK_LOCAL_MCAST = ipaddress.ip_network("224.0.0.0/24")
_V6_LINK_LOCAL_MCAST = ipaddress.ip_network("ff02::/16")


@dataclass(frozen=True)
class ConnectedSubnet:
    """An IPv4 subnet an interface of a vantage is configured in (``198.18.0.0/24`` on ``br0``)."""

    network: ipaddress.IPv4Network
    dev: str
    vantage: str = "local"


@dataclass(frozen=True)
class NotAHost:
    """Why an address is no host's: its kind and, for the subnet kinds, which subnet where."""

    address: str
    kind: str
    network: str = ""
    dev: str = ""
    vantage: str = ""

    def __str__(self) -> str:
        """The probes' own English reason; operators read ``knowledge.target_kind.message``."""
        where = f" of {self.network} on {self.dev}" if self.network else ""
        return f"{self.address} is not a host address ({self.kind.replace('_', ' ')}{where})"


def classify(address: str | IPAddress, subnets: Iterable[ConnectedSubnet] = ()) -> NotAHost | None:
    """The reason ``address`` is not a host's address, or None when it may be one.

    ``subnets`` are the sender's connected IPv4 subnets; /31 and /32 have no network
    or broadcast address (RFC 3021: both addresses of a /31 are hosts), so they
    are passed over. A string that is not an IP address is None here: saying so is
    the parser's job.
    """
    try:
        addr = ipaddress.ip_address(address) if isinstance(address, str) else address
    except ValueError:
        return None
    shown = str(addr)
    if addr.is_unspecified:
        return NotAHost(shown, "unspecified")
    if addr.version == 4 and addr in _THIS_NETWORK:
        return NotAHost(shown, "this_network")
    if addr.is_loopback:
        return NotAHost(shown, "loopback")
    if addr == _LIMITED_BROADCAST:
        return NotAHost(shown, "limited_broadcast")
    if addr.is_multicast:
        link_local = addr in (_V4_LINK_LOCAL_MCAST if addr.version == 4 else _V6_LINK_LOCAL_MCAST)
        return NotAHost(shown, "link_local_multicast" if link_local else "multicast")
    if addr.version != 4:
        return None
    for subnet in subnets:
        net = subnet.network
        if net.prefixlen >= 31 or addr not in net:
            continue
        if addr == net.network_address:
            return NotAHost(shown, "subnet_network", str(net), subnet.dev, subnet.vantage)
        if addr == net.broadcast_address:
            return NotAHost(shown, "subnet_broadcast", str(net), subnet.dev, subnet.vantage)
    return None


__all__ = ["KINDS", "ConnectedSubnet", "NotAHost", "classify"]
