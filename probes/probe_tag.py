"""Which probe packet a captured frame is: the capture's tag as a value with one text form.

The capture tags each frame it recognises as one of ours (``icmp:IDENT:SEQ``,
``arp:IP``, ``tcp:SPORT:DPORT``, ``udp:DPORT``); a frame seen on three hops carries
the same tag three times, which is how the path view, the trace and the kernel's
word find one packet along the path. A recorded frame keeps the tag's text (the
packets table's ``tag`` column, the pcapng comment): this module is its only writer
(:func:`ProbeTag.__str__`, used by the capture) and its only reader
(:meth:`ProbeTag.read`), so no consumer splits the text by hand.

Ground floor: no import from the rest of the project.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass


@dataclass(frozen=True)
class ProbeTag:
    """``kind`` (icmp, arp, tcp, udp) and its parts: (ident, seq), (ip,), (sport, dport), (dport,)."""

    kind: str
    parts: tuple[str, ...] = ()

    def __str__(self) -> str:
        return ":".join((self.kind, *self.parts))

    @staticmethod
    @functools.lru_cache(maxsize=8192)
    def read(text: str) -> ProbeTag | None:
        """The tag a frame was recorded with (None for an untagged frame: background traffic)."""
        if not text:
            return None
        kind, *parts = text.split(":")
        return ProbeTag(kind, tuple(parts))

    def part(self, i: int) -> str:
        return self.parts[i] if i < len(self.parts) else ""

    @property
    def ident(self) -> str:
        """An ICMP echo's identifier: one ping run (``""`` for other kinds)."""
        return self.part(0) if self.kind == "icmp" else ""

    @property
    def seq(self) -> str:
        """An ICMP echo's sequence number: one packet of the run (``""`` for other kinds)."""
        return self.part(1) if self.kind == "icmp" else ""

    @property
    def flow(self) -> str:
        """The probe run the packet belongs to: ``icmp:IDENT`` for a ping, the whole tag otherwise."""
        return str(ProbeTag("icmp", (self.ident,))) if self.kind == "icmp" else str(self)

    @classmethod
    def icmp(cls, ident: int | str, seq: int | str) -> ProbeTag:
        return cls("icmp", (str(ident), str(seq)))

    def of_ping(self, ident: int | str) -> bool:
        """Whether this is a packet of the ping that used ICMP identifier ``ident``."""
        return self.kind == "icmp" and self.ident == str(ident)
