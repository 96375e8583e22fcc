"""Turn a cause id and the facts a check found into a Finding with exact, runnable fixes.

Fix templates in the catalogue are plain commands as run on the machine
concerned. Here they become what the operator pastes into a root shell on this
host: a namespace's command is prefixed with ``ip netns exec NAME``; a libvirt
guest's command stays as is and ``where`` says it runs inside the guest.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from vnetdoctor.probes.vantage import Vantage

from .model import Evidence, Finding, Fix


def where_label(where: Vantage | None) -> str:
    return str(where) if where is not None else "local"


def in_vantage(command: str, where: Vantage | None) -> str:
    """The command as typed on this host for a fix that applies inside ``where``."""
    if where is not None and where.kind == "netns" and command:
        # Each command of a `a && b` chain must run in the namespace.
        parts = [p.strip() for p in command.split(" && ")]
        return " && ".join(f"ip netns exec {shlex.quote(where.name)} {p}" for p in parts)
    return command


def _field(obj: Any, name: str, lang: str) -> str:
    value = obj.get(name, "") if isinstance(obj, Mapping) else getattr(obj, name, "")
    if callable(value):
        value = value(lang)
    if isinstance(value, Mapping):
        value = value.get(lang) or value.get("en", "")
    return str(value or "")


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
    conditional = [t for t in templates if getattr(t, "when", "")]
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
    tvars.setdefault("where", where_label(where))
    summary = catalog.render_summary(cause, lang, strict=strict, **tvars)
    if fixes is None:
        rendered = []
        for template in applicable(info.fixes, tvars):
            fix = catalog.render_fix(template, lang, strict=strict, **tvars)
            run_in = None if fix_where else where
            rendered.append(
                Fix(
                    command=in_vantage(_field(fix, "command", lang), run_in),
                    undo=in_vantage(_field(fix, "undo", lang), run_in),
                    risk=_field(fix, "risk", lang),
                    where=fix_where or where_label(where),
                    note=_field(fix, "note", lang),
                )
            )
        fixes = rendered
    return Finding(
        cause=cause,
        layer=info.layer,
        summary=summary,
        evidence=tuple(evidence),
        fixes=tuple(fixes),
        severity=severity,
    )
