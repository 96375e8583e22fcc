"""Turn a cause id and the facts a check found into a Finding with exact, runnable fixes.

Fix templates in the catalogue are argv as run on the machine concerned. Here they
become what runs from this host: a namespace's argv is prefixed with
``ip netns exec NAME`` (as argv words, never a string); a libvirt guest's argv stays
as it is and ``where`` says it runs inside the guest, through its agent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from vnetdoctor.probes.vantage import Vantage

from .model import Evidence, Finding, Fix


def where_label(where: Vantage | None) -> str:
    return str(where) if where is not None else "local"


def in_vantage(fix: Fix, where: Vantage | None) -> Fix:
    """``fix`` as run from this host for a fix that applies inside ``where``."""
    label = where_label(where)
    if not fix.runnable or where is None or where.kind != "netns":
        return dataclasses.replace(fix, where=label)
    prefix = ("ip", "netns", "exec", where.name)
    return Fix.of(prefix + fix.argv, prefix + fix.undo_argv if fix.undo_argv else (),
                  risk=fix.risk, where=label, note=fix.note)


def applicable(templates: Sequence[Any], facts: Mapping[str, Any]) -> list[Any]:
    """The fix templates whose ``when = "key=value"`` matches the facts the check found.

    A template without ``when`` always applies. If the facts select none of the
    conditional ones (the check could not tell the backend, say), all are offered
    rather than none: the operator then picks.
    """
    plain = [t for t in templates if not getattr(t, "when", "")]
    chosen = []
    for t in templates:
        when = getattr(t, "when", "")
        if when:
            key, _, value = when.partition("=")
            # A fact named like a placeholder can be given apart as when_KEY (dns: resolver).
            if str(facts.get(f"when_{key}", facts.get(key, ""))) == value:
                chosen.append(t)
    # An operating system is never guessed: a Windows fix is offered only for a Windows guest.
    conditional = [t for t in templates if getattr(t, "when", "") and not t.when.startswith("os=")]
    if conditional and not chosen:
        chosen = conditional
    return [t for t in templates if t in plain or t in chosen]


def render_finding(
    cause: str,
    *,
    lang: str,
    evidence: Sequence[Evidence],
    where: Vantage | None,
    severity: str,
    fixes: Sequence[Fix] | None,
    template_vars: Mapping[str, Any],
    fix_where: str | None = None,
    strict: bool | None = None,
) -> Finding:
    """``fix_where`` names a machine the tool cannot enter (the station that stole an
    address): its fixes are shown as they are to be run there, without a prefix."""
    from . import catalog

    info = catalog.get_cause(cause)
    tvars = {k: ("" if v is None else v) for k, v in template_vars.items()}
    # No vantage but a place named for the fixes (the guest's console when there is no
    # --guest): the summary names that place, never "local", which is this host.
    tvars.setdefault("where", fix_where if where is None and fix_where else where_label(where))
    summary = catalog.render_summary(cause, lang, strict=strict, **tvars)
    if fixes is None:
        rendered = []
        for template in applicable(info.fixes, tvars):
            fix = catalog.render_fix(template, lang, strict=strict, **tvars)
            # A machine the tool cannot enter: its fixes read as run there, and cannot be applied here.
            rendered.append(dataclasses.replace(fix, where=fix_where) if fix_where else in_vantage(fix, where))
        fixes = rendered
    return Finding(
        cause=cause,
        layer=info.layer,
        summary=summary,
        evidence=tuple(evidence),
        fixes=tuple(fixes),
        severity=severity,
    )
