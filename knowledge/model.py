"""Value types the engine emits: what the TUI renders, the store records, JSON carries.

All frozen dataclasses with ``to_dict``/``from_dict`` so that a recorded session
can be fed back through the same rendering path as a live one.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from vnetdoctor.probes.base import SKIPPED, Observation
from vnetdoctor.probes.vantage import Vantage, parse_vantage
from vnetdoctor.probes.vocabulary import Severity, Status, Verdict

from .phrase import from_record, said

# Step status, as in diagnose --json (the names of vocabulary.Status, kept for the many
# callers that import them from here). "ask" is a question node waiting for the operator.
PASS, FAIL, WARN, SKIP, ASK = Status.PASS, Status.FAIL, Status.WARN, Status.SKIP, Status.ASK
_CAP = re.compile(r"CAP_[A-Z]+(?:_[A-Z]+)*")  # a Linux capability as the probes name it
STATUS_MARK: Mapping[str, str] = {PASS: "✓", FAIL: "✗", WARN: "!", SKIP: "-", ASK: "?"}


# Why a fix shown with its command is not runnable (``Fix.missing``): run through
# ``ip netns exec`` it would act on the whole machine (see render.in_vantage).
MACHINE_WIDE = "machine-wide"


@dataclass(frozen=True)
class Fix:
    """One fix: the argv that runs, where it runs, how to undo it, and how risky it is.

    Values are data, never code: ``argv`` is run without a shell. For a namespace it
    starts with ``ip netns exec NAME``; for a libvirt guest it is the argv run inside
    the guest through its agent (``where`` says so). ``command`` and ``undo`` are the
    display form, ``shlex.join`` of the argv: what the operator reads and copies is
    exactly what runs.

    A fix whose values are not all known (or not safe inside the text they would go
    into) is guidance: ``runnable`` is False, ``missing`` names the values that could
    not be known, ``argv`` is empty and nothing may run or copy it. Build fixes with
    :meth:`of` and :meth:`guidance`; the invariants are checked here.

    Some fixes take several commands (``virsh net-start`` and then each running guest's
    tap back on the bridge): ``then`` holds the further steps, each a runnable Fix with
    its own vantage and undo, run in order after ``argv`` (:meth:`sequence`). ``command``
    is then one line per step and ``undo`` one line per undo, last step first: still
    exactly what runs.
    """

    command: str
    undo: str
    risk: str  # "low" | "medium" | "high"
    where: str = ""  # the vantage it runs in: "local", "netns:NAME", "libvirt:DOM"
    note: str = ""
    argv: tuple[str, ...] = ()
    undo_argv: tuple[str, ...] = ()
    runnable: bool = False
    missing: tuple[str, ...] = ()  # placeholder names of the values that could not be known
    then: tuple[Fix, ...] = ()  # further steps of this fix, run in order after argv

    def __post_init__(self) -> None:
        for name in ("argv", "undo_argv", "missing", "then"):
            value = getattr(self, name)
            if not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))
        if self.runnable:
            if not self.argv or self.missing or not all(isinstance(a, str) for a in self.argv + self.undo_argv):
                raise ValueError(f"a runnable fix needs its argv and nothing missing: {self!r}")
            if any(not step.runnable or step.then for step in self.then):
                raise ValueError(f"each further step is one runnable command: {self!r}")
            if (self.command, self.undo) != _display(self.argv, self.undo_argv, self.then):
                raise ValueError(f"a runnable fix is displayed as its argv, shell-quoted: {self!r}")
        elif self.argv or self.undo_argv or self.then:
            raise ValueError(f"guidance carries no argv: {self!r}")

    @classmethod
    def of(cls, argv: Sequence[str], undo_argv: Sequence[str] = (), *, risk: str, where: str = "",
           note: str = "", then: Sequence[Fix] = ()) -> Fix:
        """A runnable fix: ``argv`` as it is run on this host (or in the guest for a libvirt vantage)."""
        argv, undo_argv, steps = tuple(argv), tuple(undo_argv), tuple(then)
        command, undo = _display(argv, undo_argv, steps)
        return cls(command, undo, risk, where, note, argv, undo_argv, True, (), steps)

    @classmethod
    def sequence(cls, steps: Sequence[Fix]) -> Fix:
        """One fix made of runnable ``steps`` run in order: the first's vantage and note, the highest risk."""
        first, rest = steps[0], tuple(steps[1:])
        if not rest:
            return first
        risk = max((s.risk for s in steps), key=lambda r: ("low", "medium", "high").index(r))
        flat = tuple(step for s in rest for step in (replace(s, then=()), *s.then))
        return cls.of(first.argv, first.undo_argv, risk=risk, where=first.where, note=first.note,
                      then=tuple(Fix.of(s.argv, s.undo_argv, risk=s.risk, where=s.where, note=s.note) for s in flat))

    @classmethod
    def machine_wide(cls, fix: Fix, where: str) -> Fix:
        """``fix`` shown but never run: in ``where`` (a network namespace) it would act on the
        whole machine. ``missing`` says why (:data:`MACHINE_WIDE`); the command is what to run
        inside the real guest or host."""
        return cls(fix.command, fix.undo, fix.risk, where, fix.note, missing=(MACHINE_WIDE,))

    @classmethod
    def guidance(cls, missing: Sequence[str], *, risk: str, where: str = "", note: str = "") -> Fix:
        """What to do, without a command: ``missing`` says which values were not known."""
        return cls("", "", risk, where, note, (), (), False, tuple(missing))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "command": self.command,
            "argv": list(self.argv),
            "undo": self.undo,
            "undo_argv": list(self.undo_argv),
            "risk": self.risk,
            "where": self.where,
            "note": self.note,
            "runnable": self.runnable,
            "missing": list(self.missing),
            **_facts("note", self.note),
        }
        if self.then:
            out["then"] = [step.to_dict() for step in self.then]  # added field: older readers ignore it
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Fix:
        """Load a recorded fix. A record without a valid argv (sessions recorded before
        fixes were argv) keeps its command text for display, and is never runnable."""
        risk, where = str(d.get("risk", "")), str(d.get("where", ""))
        note = from_record(str(d.get("note", "")), d.get("note_say"))
        argv, undo_argv = d.get("argv"), d.get("undo_argv") or []
        if (
            d.get("runnable") is True
            and not d.get("missing")
            and isinstance(argv, list) and argv
            and isinstance(undo_argv, list)
            and all(isinstance(a, str) for a in argv + undo_argv)
        ):
            steps = [cls.from_dict(s) for s in d.get("then") or () if isinstance(s, Mapping)]
            if all(s.runnable for s in steps):
                return cls.of(argv, undo_argv, risk=risk, where=where, note=note, then=steps)
        missing = tuple(str(m) for m in d.get("missing") or ())
        return cls(str(d.get("command", "")), str(d.get("undo", "")), risk, where, note, missing=missing)


def _facts(name: str, text: str) -> dict[str, Any]:
    """``{NAME_say: facts}`` beside a recorded text the translator made (see :mod:`.phrase`), else ``{}``.

    The sentence stays as it was said; the facts let an export say it in the other language.
    """
    facts = said(text)
    return {f"{name}_say": facts} if facts is not None else {}


def _display(argv: tuple[str, ...], undo_argv: tuple[str, ...], then: tuple[Fix, ...]) -> tuple[str, str]:
    """(command, undo) as shown: one shell-quoted line per step; undo lines last step first."""
    command = "\n".join(shlex.join(a) for a in (argv, *(s.argv for s in then)))
    undos = [u for u in (undo_argv, *(s.undo_argv for s in then)) if u]
    return command, "\n".join(shlex.join(u) for u in reversed(undos))


@dataclass(frozen=True)
class Evidence:
    """One line of proof, and where it came from (probe id, vantage, rows)."""

    text: str
    probe: str = ""
    vantage: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "probe": self.probe, "vantage": self.vantage, **_facts("text", self.text)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Evidence:
        return cls(from_record(d["text"], d.get("text_say")), d.get("probe", ""), d.get("vantage", ""))


@dataclass(frozen=True)
class Finding:
    """A named cause (id from causes.md) with its evidence and fixes."""

    cause: str
    layer: str
    summary: str
    evidence: tuple[Evidence, ...] = ()
    fixes: tuple[Fix, ...] = ()
    severity: str = Severity.FAIL  # fail: explains the symptom; warn: worth fixing, not the cause

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.cause,
            "layer": self.layer,
            "severity": self.severity,
            "summary": self.summary,
            **_facts("summary", self.summary),
            "evidence": [e.to_dict() for e in self.evidence],
            "fixes": [f.to_dict() for f in self.fixes],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Finding:
        return cls(
            cause=d["id"],
            layer=d["layer"],
            summary=from_record(d.get("summary", ""), d.get("summary_say")),
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
            **_facts("note", self.note),
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
            note=from_record(d.get("note", ""), d.get("note_say")),
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
    # Who reads the notes: "cli" (the default: a note may name a flag such as --guest) or
    # "tui" (no flags: the Start screen picks what they would). Not part of what was asked,
    # so neither compared nor recorded.
    audience: str = field(default="cli", compare=False)
    # Follow the probe packets in the host kernel (kernel.drops, read-only); off only to
    # measure what it saves (bench diagnose).
    kernel_drops: bool = True
    # Opt-in: after a NETFILTER_DROP, a temporary nftables trace table names the rule.
    trace_rules: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "host": str(self.host),
            "guest": str(self.guest) if self.guest else None,
            "from": self.from_side,
            "port": self.port,
            "lang": self.lang,
            "kernel_drops": self.kernel_drops,
            "trace_rules": self.trace_rules,
        }

    def argv(self) -> list[str]:
        """The target options that ask for this request (``--host … --target …``), for a command shown."""
        args = ["--host", str(self.host)]
        if self.guest is not None:
            args += ["--guest", str(self.guest)]
        if self.from_side != "host":
            args += ["--from", self.from_side]
        if self.target is not None:
            args += ["--target", self.target]
        if self.port:
            args += ["--port", str(self.port)]
        return args

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Request:
        return cls(
            target=d.get("target"),
            host=parse_vantage(d.get("host") or "local"),
            guest=parse_vantage(d["guest"]) if d.get("guest") else None,
            from_side=d.get("from", "host"),
            port=d.get("port"),
            lang=d.get("lang", "en"),
            kernel_drops=bool(d.get("kernel_drops", True)),
            trace_rules=bool(d.get("trace_rules", False)),
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

    @property
    def verdict(self) -> Verdict:
        """What this diagnosis concluded: the one value console, report, TUI, store,
        JSON and the exit status show (see :meth:`Verdict.decide`)."""
        return Verdict.decide(self.reachable, (f.severity for f in self.causes))

    def capability_skips(self) -> tuple[tuple[str, ...], int]:
        """(the capabilities whose lack skipped steps, how many steps they skipped).

        What a rerun as root would add, read from what was seen: the reasons of the probes
        that did not run (``needs CAP_NET_RAW``) and the skipped steps' notes, which name
        them in either language (``已跳过：需要 CAP_SYS_ADMIN 权限``). ``((), 0)`` when no
        step was skipped for a capability.
        """
        caps: set[str] = set()
        steps = 0
        for s in self.steps:
            if s.status != SKIP:
                continue
            said = {*_CAP.findall(s.note), *(c for o in s.observations if o.status == SKIPPED
                                            for c in _CAP.findall(o.reason))}
            caps |= said
            steps += bool(said)
        return tuple(sorted(caps)), steps

    def to_json(self, session_id: str | None) -> dict[str, Any]:
        """The ``vnetdoctor.diagnosis/1`` document of cli.md."""
        caps, skipped = self.capability_skips()
        return {
            "schema": "vnetdoctor.diagnosis/1",
            "session_id": session_id,
            "target": self.target or self.request.target,
            "host": str(self.request.host),
            "guest": str(self.request.guest) if self.request.guest else None,
            "from": self.request.from_side,
            "port": self.request.port,
            "reachable": self.reachable,
            "verdict": str(self.verdict),
            "causes": [f.to_dict() for f in self.causes],
            "steps": [s.to_dict() for s in self.steps],
            "duration_ms": round(self.duration_ms),
            "missing_capabilities": list(caps),
            "skipped_for_capabilities": skipped,
        }
