"""What changed between two recorded sessions: usually before and after a fix.

The question an operator asks after applying a fix is "did it work, and what else
did it change?". So the diff answers, in this order: reachability before/after;
causes gone, new and still there; steps whose status changed; and, for every
probe that ran from the same vantage in both sessions, the rows that differ.

Rows are matched by the identity each row type declares (``KEY_FIELDS``, see
:mod:`vnetdoctor.probes.rowkey`; the Tables screen keys on the same): a link by
name, an address by interface and address, a firewall rule by its table, chain
and text without counters..., so a change reads as "link vnet0: operstate DOWN
→ UP" rather than a removed and an added line.
Counters, handles and ifindexes change on every run and say nothing about the
fix, so they are ignored; a ping's round-trip time only counts as a change when
a reply appeared or disappeared.

This module decides what changed; :mod:`vnetdoctor.sessiondiff_text` says it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from vnetdoctor.knowledge.text import texts, tr
from vnetdoctor.probes.rowkey import key_fields
from vnetdoctor.probes.vocabulary import Verdict
from vnetdoctor.records import document_verdict
from vnetdoctor.sessiondiff_rows import VOLATILE, delivered, describe, indexed, row_fields, row_identity

# Compared only as present/absent (a reply appeared), not by value.
PRESENCE_ONLY = frozenset({"rtt_ms"})

@dataclass(frozen=True)
class RowChange:
    label: str
    fields: tuple[tuple[str, Any, Any], ...]


@dataclass(frozen=True)
class ObservationDiff:
    probe: str
    vantage: str
    params: tuple[tuple[str, str], ...]
    status: tuple[str, str] | None = None  # (before, after) when the probe's own status changed
    reason: str = ""
    removed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    changed: tuple[RowChange, ...] = ()
    packets: tuple[int, int] | None = None
    params_a: tuple[tuple[str, str], ...] | None = None  # A's, when B ran the probe with other ones

    @property
    def empty(self) -> bool:
        return not (self.status or self.removed or self.added or self.changed or self.packets)


@dataclass(frozen=True)
class StepChange:
    step: str
    layer: str
    title: str
    before: str | None  # None: the step did not run in A
    after: str | None
    note: str = ""  # B's note (A's when the step is gone)


@dataclass(frozen=True)
class SessionDiff:
    a: str
    b: str
    reachable: tuple[bool | None, bool | None]
    finished: tuple[bool, bool]
    causes_gone: tuple[str, ...]
    causes_new: tuple[str, ...]
    causes_kept: tuple[str, ...]
    steps: tuple[StepChange, ...]
    observations: tuple[ObservationDiff, ...]
    only_a: tuple[str, ...] = ()  # "probe @ vantage" that ran only in A
    only_b: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    verdict: tuple[Verdict, Verdict] = (Verdict.NOT_RUN, Verdict.NOT_RUN)  # A's and B's
    # (session id, command) of the fixes that turned it healthy: applied with success in A
    # (before B ran) or in B (B re-ran after it), and not undone; only when B is healthy and A was not.
    fixed_by: tuple[tuple[str, str], ...] = ()

    @property
    def empty(self) -> bool:
        return (
            self.reachable[0] == self.reachable[1]
            and self.verdict[0] == self.verdict[1]
            and not self.causes_gone
            and not self.causes_new
            and not self.steps
            and not self.observations
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


def _compare(a: Any, b: Any, skip: frozenset[str] = frozenset()) -> tuple[tuple[str, Any, Any], ...]:
    """Fields that differ between two rows paired by key (the key fields matched already,
    in their normalised form: a rule's text whose counters moved is not a change)."""
    kind, da = row_fields(a)
    _, db = row_fields(b)
    same = set(key_fields(kind))
    changes = []
    for name in dict.fromkeys([*da, *db]):
        if name in VOLATILE or name in same or name in skip:
            continue
        va, vb = da.get(name), db.get(name)
        if name in PRESENCE_ONLY:
            if (va is None) != (vb is None):
                changes.append((name, _ms(va), _ms(vb)))
            continue
        if _hashable(va) != _hashable(vb):
            changes.append((name, va, vb))
    return tuple(changes)


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.3g} ms"


def diff_rows(
    rows_a: Iterable[Any], rows_b: Iterable[Any], chosen: frozenset[str] = frozenset()
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[RowChange, ...], tuple[int, int] | None]:
    """(removed, added, changed, packet counts) between two row lists.

    ``chosen``: row fields whose values each run picked for itself (a ping's random
    size): rows are paired and compared without them.
    """
    rows_a, rows_b = [r for r in rows_a if not delivered(r)], [r for r in rows_b if not delivered(r)]
    pa = [r for r in rows_a if row_fields(r)[0] == "PacketRow"]
    pb = [r for r in rows_b if row_fields(r)[0] == "PacketRow"]
    ia = indexed((r for r in rows_a if row_fields(r)[0] != "PacketRow"), chosen)
    ib = indexed((r for r in rows_b if row_fields(r)[0] != "PacketRow"), chosen)
    removed = tuple(describe(ia[k]) for k in ia if k not in ib)
    added = tuple(describe(ib[k]) for k in ib if k not in ia)
    changed = []
    for k in ia:
        if k in ib:
            fields = _compare(ia[k], ib[k], chosen)
            if fields:
                kind, data = row_fields(ib[k])
                changed.append(RowChange(row_identity(kind, data), fields))
    packets = (len(pa), len(pb)) if (pa or pb) and len(pa) != len(pb) else None
    return removed, added, tuple(changed), packets


def _step_of(session: Any) -> dict[tuple[str, str, tuple[tuple[str, str], ...]], str]:
    """Which step's last run made each observation (see :func:`_observations`)."""
    return {_key(obs): step.step for step in session.latest_steps() for obs in step.observations}


def _key(obs: Any) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    # A random ICMP identifier must not make two runs of one probe look unrelated.
    return obs.probe, obs.vantage, tuple((k, v) for k, v in obs.params if k not in VOLATILE)


def _observations(session: Any) -> dict[tuple[str, str, tuple[tuple[str, str], ...]], Any]:
    """The observations of each step's last run, by (probe, vantage, params).

    A re-run replaces the first: the step's whole last run, not observation by
    observation, since a re-run's pings choose new sizes (:data:`RUN_CHOSEN`) and
    would otherwise stand beside the first run's as two other probes.
    """
    out: dict[tuple[str, str, tuple[tuple[str, str], ...]], Any] = {}
    for step in session.latest_steps():
        for obs in step.observations:
            out[_key(obs)] = obs
    return out


def _path(s: Any) -> str:
    return f"{s.target} from {s.request.host}" + (
        f" / {s.request.guest}" if s.request.guest else ""
    )


def comparison_notes(a: Any, b: Any, lang: str) -> list[str]:
    """What makes the comparison less direct than it looks: other paths, unfinished sessions."""
    notes = []
    if _path(a) != _path(b):
        notes.append(diff_text("other_path", lang, a=_path(a), b=_path(b)))
    for tag, s in (("A", a), ("B", b)):
        if s.diagnosis is None:
            notes.append(
                diff_text(
                    "unfinished",
                    lang,
                    tag=tag,
                    state=diff_text(s.state, lang) if f"diff.{s.state}" in texts() else s.state,
                )
            )
    return notes


def cause_ids(session: Any) -> list[str]:
    return list(dict.fromkeys(f.cause for f in session.causes()))


ObsKey = tuple[str, str, tuple[tuple[str, str], ...]]

# Parameters a run picks for itself, and the row field each one sets: the symptom's
# pings get a random payload size (knowledge/kernel_window.py) and the kernel watch
# follows those lengths. Two runs differ there by construction, not by what they saw.
# The path-MTU probe draws two of its sizes the same way and an ICMP identifier per size.
RUN_CHOSEN = {"size": "size", "sizes": "size", "lengths": "length", "idents": "ident"}


def _chosen(ka: ObsKey, kb: ObsKey) -> frozenset[str]:
    """The row fields to leave out when a probe ran again with other chosen parameters."""
    a, b = dict(ka[2]), dict(kb[2])
    return frozenset(field for param, field in RUN_CHOSEN.items() if a.get(param) != b.get(param))


def _rerun_pairs(oa: dict[ObsKey, Any], ob: dict[ObsKey, Any], steps: Mapping[ObsKey, str]) -> list[tuple[ObsKey, ObsKey]]:
    """The same probe run again with parameters of its own choosing: paired across A and B.

    The symptom's pings draw a random payload size each run (so the kernel watch can
    tell them apart), so their parameters never match across two sessions; unpaired,
    "icmp.echo @ host" was listed as run only in A and only in B, and the one change a
    fix makes — no reply, then a reply — was never compared. Two runs are paired when
    they agree on every other parameter and are the only such run on each side; more
    than one (nothing to tell which is which) is not guessed at.
    """

    def rest(k: ObsKey) -> tuple[str, ObsKey]:  # the step too: a kernel watch per step is one per step
        return steps.get(k, ""), (k[0], k[1], tuple(p for p in k[2] if p[0] not in RUN_CHOSEN))

    left_a = [k for k in oa if k not in ob]
    left_b = [k for k in ob if k not in oa]
    pairs = []
    for same in dict.fromkeys(rest(k) for k in left_a):
        xs = [k for k in left_a if rest(k) == same]
        ys = [k for k in left_b if rest(k) == same]
        if len(xs) == 1 and len(ys) == 1:
            pairs.append((xs[0], ys[0]))
    return pairs


def diff_sessions(a: Any, b: Any) -> SessionDiff:
    """Compare two :class:`~vnetdoctor.store.RecordedSession` objects (A before, B after)."""
    ca, cb = cause_ids(a), cause_ids(b)
    notes = comparison_notes(a, b, "en")

    sa = {s.step: s for s in a.latest_steps()}
    sb = {s.step: s for s in b.latest_steps()}
    steps = []
    for name in dict.fromkeys([*sa, *sb]):
        x, y = sa.get(name), sb.get(name)
        if x is not None and y is not None and x.status == y.status:
            continue
        ref = y or x
        assert ref is not None
        steps.append(
            StepChange(
                step=name,
                layer=ref.layer,
                title=ref.title,
                before=x.status if x else None,
                after=y.status if y else None,
                note=ref.note,
            )
        )

    oa, ob = _observations(a), _observations(b)
    pairs = [(k, k) for k in oa if k in ob] + _rerun_pairs(oa, ob, {**_step_of(a), **_step_of(b)})
    obs_diffs = []
    for ka, kb in pairs:
        x, y = oa[ka], ob[kb]
        before = ka[2] if ka != kb else None
        if x.status != y.status:
            obs_diffs.append(
                ObservationDiff(
                    kb[0], kb[1], kb[2], status=(x.status, y.status), reason=y.reason or x.reason,
                    params_a=before,
                )
            )
            continue
        removed, added, changed, packets = diff_rows(x.rows, y.rows, _chosen(ka, kb))
        d = ObservationDiff(
            kb[0], kb[1], kb[2], removed=removed, added=added, changed=changed, packets=packets, params_a=before
        )
        if not d.empty:
            obs_diffs.append(d)
    paired_a, paired_b = {ka for ka, _ in pairs}, {kb for _, kb in pairs}
    left_a, left_b = [k for k in oa if k not in paired_a], [k for k in ob if k not in paired_b]
    both = {k[:2] for k in oa} & {k[:2] for k in ob}

    def label(k: tuple[str, str, tuple[tuple[str, str], ...]]) -> str:
        """``probe @ vantage``, with its parameters when the other session ran it with others."""
        params = " ".join(f"{n}={v}" for n, v in k[2])
        return f"{k[0]} @ {k[1]}" + (f" ({params})" if k[:2] in both and params else "")

    return SessionDiff(
        a=a.id,
        b=b.id,
        reachable=(a.reachable, b.reachable),
        finished=(a.diagnosis is not None, b.diagnosis is not None),
        verdict=(document_verdict(a.diagnosis), document_verdict(b.diagnosis)),
        causes_gone=tuple(c for c in ca if c not in cb),
        causes_new=tuple(c for c in cb if c not in ca),
        causes_kept=tuple(c for c in ca if c in cb),
        steps=tuple(steps),
        observations=tuple(obs_diffs),
        only_a=tuple(dict.fromkeys(label(k) for k in left_a)),
        only_b=tuple(dict.fromkeys(label(k) for k in left_b)),
        notes=tuple(notes),
        fixed_by=_fixed_by(a, b),
    )


def applied_fixes(session: Any) -> tuple[str, ...]:
    """Commands of the fixes applied with success in ``session`` and not undone after, in order."""
    out: list[str] = []
    for event in getattr(session, "events", ()):
        detail = event.detail if isinstance(event.detail, Mapping) else {}
        if detail.get("returncode") != 0:
            continue
        if event.kind == "fix_applied" and detail.get("command"):
            out.append(str(detail["command"]))
        elif event.kind == "fix_undone" and detail.get("command") in out:  # its undo ran
            out.remove(str(detail["command"]))
    return tuple(out)


def _fixed_by(a: Any, b: Any) -> tuple[tuple[str, str], ...]:
    if document_verdict(b.diagnosis) is not Verdict.HEALTHY or document_verdict(a.diagnosis) is Verdict.HEALTHY:
        return ()
    return tuple((s.id, command) for s in (a, b) for command in applied_fixes(s))


def diff_text(key: str, lang: str, **kw: Any) -> str:
    """``diff``'s text ``key`` (``diff.*`` in data/reports.toml) in ``lang``."""
    return tr(f"diff.{key}", lang, **kw)
