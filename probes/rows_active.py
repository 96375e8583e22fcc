"""Row types of the active probes (packets we send): echo, ARP, TCP, DNS."""

from __future__ import annotations

from .base import row
from .rowkey import Row
from .vocabulary import EchoFailure


@row
class EchoRow(Row):
    """One ICMP echo request and what came back.

    Key: destination, size, DF and sequence: the same probe packet in another run.
    The ICMP identifier is random per run.
    """

    KEY_FIELDS = ("dst", "size", "df", "seq")

    dst: str
    seq: int
    ident: int
    size: int  # ICMP payload bytes (IP packet = size + 28)
    df: bool
    rtt_ms: float | None  # None: no reply
    reply_from: str = ""
    error: str = ""  # local send error ("Network is unreachable") or ICMP error ("admin prohibited from X")
    failure: EchoFailure = EchoFailure.NONE  # what ``error`` is, for the rules (old records: convert.py)


@row
class ArpReplyRow(Row):
    """A station that answered our ARP who-has for ``ip``.

    Key: IP, MAC and interface: two stations answering for one IP are two rows
    (that is how a duplicate address shows).
    """

    KEY_FIELDS = ("ip", "mac", "iface")

    ip: str
    mac: str
    iface: str
    count: int = 1


@row
class TcpRow(Row):
    """Key: destination and port; the state is the answer."""

    KEY_FIELDS = ("dst", "port")

    dst: str
    port: int
    state: str  # open | closed (RST) | filtered (silence) | rejected (ICMP unreachable) | error
    rtt_ms: float | None = None
    error: str = ""


@row
class DnsRow(Row):
    """Key: the resolver asked; the state is the answer."""

    KEY_FIELDS = ("resolver",)

    resolver: str
    state: str  # answered | refused | timeout | unreachable | no-resolver | error
    rcode: str = ""
    rtt_ms: float | None = None
    source: str = ""  # where the resolver came from (/etc/resolv.conf, /etc/netns/NAME/resolv.conf)
    error: str = ""


@row
class ListenRow(Row):
    """A listening TCP socket (from /proc/net/tcp{,6} of the vantage).

    Key: family, address and port: what a socket is bound to.
    """

    KEY_FIELDS = ("family", "address", "port")

    address: str
    port: int
    family: str = "inet"


@row
class CaptureFailure(Row):
    """A capture point that could not be opened, and why: the capture's own account of itself.

    Carried in the capture observation's rows beside the frames, so a recording says
    which hops were not listened on as data ("?" in the path view, "not listened on"
    in the trace), never as a sentence to be split again. ``vantage`` and ``iface``
    are both "" when the whole capture could not start.

    Key: the point (vantage and interface); the reason is what went wrong there.
    """

    KEY_FIELDS = ("vantage", "iface")

    vantage: str
    iface: str
    reason: str
