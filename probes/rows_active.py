"""Row types of the active probes (packets we send): echo, ARP, TCP, DNS."""

from __future__ import annotations

from .base import row


@row
class EchoRow:
    """One ICMP echo request and what came back."""

    dst: str
    seq: int
    ident: int
    size: int  # ICMP payload bytes (IP packet = size + 28)
    df: bool
    rtt_ms: float | None  # None: no reply
    reply_from: str = ""
    error: str = ""  # local send error ("Network is unreachable") or ICMP error ("admin prohibited from X")


@row
class ArpReplyRow:
    """A station that answered our ARP who-has for ``ip``."""

    ip: str
    mac: str
    iface: str
    count: int = 1


@row
class TcpRow:
    dst: str
    port: int
    state: str  # open | closed (RST) | filtered (silence) | rejected (ICMP unreachable) | error
    rtt_ms: float | None = None
    error: str = ""


@row
class DnsRow:
    resolver: str
    state: str  # answered | refused | timeout | unreachable | no-resolver | error
    rcode: str = ""
    rtt_ms: float | None = None
    source: str = ""  # where the resolver came from (/etc/resolv.conf, /etc/netns/NAME/resolv.conf)
    error: str = ""


@row
class ListenRow:
    """A listening TCP socket (from /proc/net/tcp{,6} of the vantage)."""

    address: str
    port: int
    family: str = "inet"
