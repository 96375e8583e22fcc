"""A guard for test runs: active probes may only address the lab's ranges.

The machine vnetdoctor is developed and tested on is shared; its rule is that
test traffic only ever goes to 198.18.0.0/15 and the documentation ranges. Tests
set ``VNETDOCTOR_TEST_RANGES_ONLY=1`` and every active probe then refuses (as a
skipped observation) any destination outside those ranges — a DNS check in a
namespace that inherited the host's resolver, for instance. Operators never set it.
"""

from __future__ import annotations

import ipaddress
import os

from .base import Skip
from .target_kind import classify

ALLOWED = tuple(
    ipaddress.ip_network(n)
    for n in ("198.18.0.0/15", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "127.0.0.0/8")
)
ENV = "VNETDOCTOR_TEST_RANGES_ONLY"


def guard(dst: str) -> None:
    """Raise Skip when test mode is on and ``dst`` is outside the allowed ranges."""
    if os.environ.get(ENV) != "1":
        return
    try:
        addr = ipaddress.ip_address(dst)
    except ValueError:
        return
    if not any(addr in net for net in ALLOWED):
        raise Skip(f"{dst} is outside the test ranges ({ENV}=1)")


def checked_ipv4(text: str) -> str:
    """The destination of an active probe: an IPv4 host address, allowed by :func:`guard`."""
    import socket

    try:
        socket.inet_aton(text)
    except OSError:
        raise Skip(f"{text!r} is not an IPv4 address") from None
    # Behind the entry points' check (knowledge.target_kind): a broadcast, multicast,
    # loopback or unspecified destination is never sent a packet, whoever asked.
    wrong = classify(text)
    if wrong is not None:
        raise Skip(str(wrong))
    guard(text)
    return text
