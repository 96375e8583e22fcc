"""Value types the engine emits: what the TUI renders, the store records, JSON carries.

All frozen dataclasses with ``to_dict``/``from_dict`` so that a recorded session
can be fed back through the same rendering path as a live one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from vnetdoctor.probes.base import Observation
from vnetdoctor.probes.vantage import Vantage, parse_vantage

# Step status, as in diagnose --json. "ask" is a question node waiting for the operator.
PASS, FAIL, WARN, SKIP, ASK = "pass", "fail", "warn", "skip", "ask"
STATUS_MARK = {PASS: "✓", FAIL: "✗", WARN: "!", SKIP: "-", ASK: "?"}


@dataclass(frozen=True)
class Fix:
    """One exact command, where to run it, how to undo it, and how risky it is."""

    command: str
    undo: str
    risk: str  # "low" | "medium" | "high"
    where: str = ""  # the vantage it runs in: "local", "netns:NAME", "libvirt:DOM"
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"command": self.command, "undo": self.undo, "risk": self.risk, "where": self.where, "note": self.note}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Fix:
        return cls(d["command"], d.get("undo", ""), d.get("risk", ""), d.get("where", ""), d.get("note", ""))


@dataclass(frozen=True)
class Evidence:
    """One line of proof, and where it came from (probe id, vantage, rows)."""

    text: str
    probe: str = ""
    vantage: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "probe": self.probe, "vantage": self.vantage}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Evidence:
        return cls(d["text"], d.get("probe", ""), d.get("vantage", ""))


@dataclass(frozen=True)
class Finding:
    """A named cause (id from causes.md) with its evidence and fixes."""

    cause: str
    layer: str
    summary: str
    evidence: tuple[Evidence, ...] = ()
    fixes: tuple[Fix, ...] = ()
    severity: str = FAIL  # fail: explains the symptom; warn: worth fixing, not the cause

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.cause,
            "layer": self.layer,
            "severity": self.severity,
            "summary": self.summary,
            "evidence": [e.to_dict() for e in self.evidence],
            "fixes": [f.to_dict() for f in self.fixes],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Finding:
        return cls(
            cause=d["id"],
            layer=d["layer"],
            summary=d.get("summary", ""),
            evidence=tuple(Evidence.from_dict(e) for e in d.get("evidence", ())),
            fixes=tuple(Fix.from_dict(f) for f in d.get("fixes", ())),
            severity=d.get("severity", FAIL),
        )


@dataclass(frozen=True)
class Question:
    """What the engine asks where no probe can see (a switch port LED, a guest without agent)."""

    step: str
    text: str
    choices: tuple[str, ...] = ("yes", "no", "unknown")


@dataclass(frozen=True)
class StepResult:
    step: str
    layer: str
    title: str
    status: str  # pass | fail | warn | skip | ask
    note: str = ""  # one line: what the step concluded, or why it was skipped
    duration_ms: float = 0.0
    observations: tuple[Observation, ...] = ()
    findings: tuple[Finding, ...] = ()
    answer: str = ""  # the operator's answer for a question node

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.step,
            "layer": self.layer,
            "title": self.title,
            "status": self.status,
            "note": self.note,
            "duration_ms": round(self.duration_ms),
            "answer": self.answer,
            "causes": [f.cause for f in self.findings],
            "findings": [f.to_dict() for f in self.findings],
            "observations": [o.to_dict() for o in self.observations],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> StepResult:
        return cls(
            step=d["id"],
            layer=d["layer"],
            title=d.get("title", ""),
            status=d["status"],
            note=d.get("note", ""),
            duration_ms=float(d.get("duration_ms", 0)),
            observations=tuple(Observation.from_dict(o) for o in d.get("observations", ())),
            findings=tuple(Finding.from_dict(f) for f in d.get("findings", ())),
            answer=d.get("answer", ""),
        )


@dataclass(frozen=True)
class Request:
    """What the operator asked: who cannot reach whom, from which side."""

    target: str | None
    host: Vantage
    guest: Vantage | None = None
    from_side: str = "host"  # host | guest
    port: int | None = None
    lang: str = "en"

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "host": str(self.host),
            "guest": str(self.guest) if self.guest else None,
            "from": self.from_side,
            "port": self.port,
            "lang": self.lang,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Request:
        return cls(
            target=d.get("target"),
            host=parse_vantage(d.get("host") or "local"),
            guest=parse_vantage(d["guest"]) if d.get("guest") else None,
            from_side=d.get("from", "host"),
            port=d.get("port"),
            lang=d.get("lang", "en"),
        )


@dataclass(frozen=True)
class Diagnosis:
    request: Request
    reachable: bool | None  # None when the end-to-end check could not run
    causes: tuple[Finding, ...] = ()
    steps: tuple[StepResult, ...] = ()
    duration_ms: float = 0.0
    target: str | None = None  # the resolved target (discovered when the request had none)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self, session_id: str | None) -> dict[str, Any]:
        """The ``vnetdoctor.diagnosis/1`` document of cli.md."""
        return {
            "schema": "vnetdoctor.diagnosis/1",
            "session_id": session_id,
            "target": self.target or self.request.target,
            "host": str(self.request.host),
            "guest": str(self.request.guest) if self.request.guest else None,
            "from": self.request.from_side,
            "port": self.request.port,
            "reachable": self.reachable,
            "causes": [f.to_dict() for f in self.causes],
            "steps": [s.to_dict() for s in self.steps],
            "duration_ms": round(self.duration_ms),
        }
