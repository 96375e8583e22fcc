"""The domain's words, defined once: layers and their order, step status, severity, verdict.

Why here, on the ground floor: probes already declare a layer, and the floors above
(knowledge, store, reports, TUI) may import probes but never the other way round, so
the one definition has to live at the bottom for everyone to share it.

Why ``StrEnum``: a member *is* its string (``Status.PASS == "pass"``), so JSON, the
SQLite store and every existing comparison with a bare string keep working while
callers move to the names one at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Layer(StrEnum):
    """A layer of the walk, declared in walk order: the symptom first, then bottom up."""

    SYMPTOM = "symptom"
    PLATFORM = "platform"
    PHYSICAL = "physical"
    DATALINK = "datalink"
    NETWORK = "network"
    TRANSPORT = "transport"
    APPLICATION = "application"


# The walk's order, the one definition: steps are walked, causes ranked and reports
# grouped in this order. Everything else derives from it.
LAYER_ORDER: tuple[Layer, ...] = tuple(Layer)
# Where a cause or a probe can sit: every layer but the symptom (which is what is seen,
# not where it comes from).
CAUSE_LAYERS: tuple[Layer, ...] = tuple(layer for layer in LAYER_ORDER if layer is not Layer.SYMPTOM)


_RANK = {str(layer): rank for rank, layer in enumerate(LAYER_ORDER)}


def layer_rank(layer: str) -> int:
    """A layer's place in the walk; an unknown layer (an old record) sorts last."""
    return _RANK.get(str(layer), len(LAYER_ORDER))


class Status(StrEnum):
    """A step's outcome, as in ``diagnose --json``; ASK is a question awaiting the operator."""

    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    SKIP = "skip"
    ASK = "ask"


class Severity(StrEnum):
    """How much a finding weighs: FAIL explains the symptom, WARN is worth fixing but does not."""

    FAIL = "fail"
    WARN = "warn"


class Verdict(StrEnum):
    """What a diagnosis concluded, decided once by :meth:`decide` for every reader.

    The console line, the Markdown report, the TUI headline, the store's result column,
    ``diagnose --json`` and the exit status all show this one value, so they cannot
    disagree about the same run.
    """

    HEALTHY = "healthy"  # reachable both ways and no cause named
    CAUSE = "cause"  # at least one cause that explains the symptom
    WARNINGS = "warnings"  # causes named, all of warning severity: none explains the symptom
    INCONCLUSIVE = "inconclusive"  # not reachable (or not checkable) and no cause named
    NOT_RUN = "not_run"  # no diagnosis: the walk was interrupted or is still running

    @classmethod
    def decide(cls, reachable: bool | None, severities: Iterable[str], *, finished: bool = True) -> Verdict:
        """The verdict from what a diagnosis holds: its reachability and its causes' severities."""
        if not finished:
            return cls.NOT_RUN
        severities = tuple(severities)
        if any(s == Severity.FAIL for s in severities):
            return cls.CAUSE
        if severities:
            return cls.WARNINGS
        if reachable:
            return cls.HEALTHY
        return cls.INCONCLUSIVE

    @property
    def exit_status(self) -> int:
        """``diagnose``'s exit status (cli.md): 0 healthy, 1 a cause named, 3 inconclusive."""
        return _EXIT_STATUS[self]


_EXIT_STATUS = {
    Verdict.HEALTHY: 0,
    Verdict.CAUSE: 1,
    Verdict.WARNINGS: 1,
    Verdict.INCONCLUSIVE: 3,
    Verdict.NOT_RUN: 3,
}


class Direction(StrEnum):
    """Which way a captured frame crossed the interface it was captured on (the packet socket says)."""

    IN = "in"
    OUT = "out"
    UNKNOWN = ""  # a row built without a socket (a test's, a benchmark's) or an old record without the prefix


class PacketKind(StrEnum):
    """What a captured frame is, as far as the rules and the packet views need to tell.

    Decided by the capture from the frame's bytes (ICMP type, ARP operation), so no
    reader has to look for words in the summary line.
    """

    ECHO_REQUEST = "echo-request"  # ICMP type 8
    ECHO_REPLY = "echo-reply"  # ICMP type 0
    WHO_HAS = "who-has"  # ARP request
    IS_AT = "is-at"  # ARP reply
    OTHER = ""  # anything else (other ICMP types, TCP, UDP, other ethertypes)


class EchoFailure(StrEnum):
    """Why an echo request got no reply, as far as the probe could tell: what rules decide on.

    Set by the probe from what it was told (the ICMP type and code of an error that
    quotes our request) or from its own send that failed, so no rule looks for words
    in ``EchoRow.error``: those are the tool's (our raw socket, iputils, busybox,
    Windows ping) and the kernel's strerror, and they stay for the operator to read.
    """

    NONE = ""  # a reply, or no answer at all before the timeout
    UNREACHABLE = "unreachable"  # ICMP destination unreachable (type 3) but code 4: refused on the way
    TOO_BIG = "too-big"  # ICMP type 3 code 4: fragmentation needed and DF set
    TIME_EXCEEDED = "time-exceeded"  # ICMP type 11: a loop, or a TTL too small
    PARAMETER_PROBLEM = "parameter-problem"  # ICMP type 12
    NOT_SENT = "not-sent"  # the sender's own kernel refused to send it (no route, no address)


__all__ = [
    "CAUSE_LAYERS", "LAYER_ORDER", "Direction", "EchoFailure", "Layer", "PacketKind", "Severity", "Status", "Verdict",
    "layer_rank",
]
