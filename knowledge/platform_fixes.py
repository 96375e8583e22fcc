"""Findings of the platform checks with exactly the fixes that fit what was seen.

The catalogue offers every fix a cause can have (``virsh start``, ``resume``,
``dompmwakeup`` …); a check knows which one applies (``when = "state=paused"``)
and where it runs: ``virsh`` on this machine against the guest's URI, any other
command of a libvirt cause inside the guest, a namespace host's command behind
``ip netns exec``.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from vnetdoctor.probes.libvirt_conn import DEFAULT_URI
from vnetdoctor.probes.vantage import Vantage

from .catalog import FixTemplate, get_cause, render_fix
from .context import StepContext
from .model import FAIL, Evidence, Fix


def with_uri(fix: Fix, uri: str) -> Fix:
    """``virsh X`` → ``virsh -c URI X`` (two argv words: the URI is a value) unless the
    URI is the one virsh uses anyway. Runs on this machine."""
    if not fix.runnable or uri == DEFAULT_URI:
        return dataclasses.replace(fix, where="local")

    def connect(argv: tuple[str, ...]) -> tuple[str, ...]:
        if argv[:1] != ("virsh",) or argv[1:2] == ("-c",):
            return argv
        return ("virsh", "-c", uri, *argv[1:])

    return Fix.of(connect(fix.argv), connect(fix.undo_argv) if fix.undo_argv else (),
                  risk=fix.risk, where="local", note=fix.note)


def found(
    ctx: StepContext,
    cause: str,
    evidence: Sequence[str | Evidence],
    *,
    facts: Mapping[str, str] | None = None,
    keep: Callable[[FixTemplate], bool] | None = None,
    uri: str | None = None,
    where: Vantage | None = None,
    guest: Vantage | None = None,
    severity: str = FAIL,
    extra: Sequence[Fix] = (),
    join: int = 1,
    **tvars: Any,
) -> None:
    """Name a cause with only the fixes that fit what was seen.

    A catalogue fix may carry ``when = "key=value"``: it is kept when ``facts``
    holds that pair (``state=paused`` keeps ``virsh resume``, not ``virsh start``;
    the engine's ``applicable`` rules).
    ``keep`` narrows further, by template. ``virsh`` commands talk to the guest's URI and run
    on this machine; any other command of a libvirt cause runs inside ``guest``
    (none given: in ``where``). A fix that takes several commands is one :class:`Fix` with
    further steps: the first ``join`` fixes of the catalogue, then the ``extra`` ones
    (rendered per tap by :func:`each`), when all of them can run.
    """
    from .render import applicable, in_vantage, where_label

    values: dict[str, Any] = {k: ("" if v is None else v) for k, v in tvars.items()}
    values.setdefault("where", where_label(where))
    fixes: list[Fix] = []
    for template in applicable(get_cause(cause).fixes, facts or {}):
        if keep is not None and not keep(template):
            continue
        fix = render_fix(template, ctx.lang, **values)
        if uri is not None and template.argv.program == "virsh":
            fix = with_uri(fix, uri)
        elif uri is not None and guest is not None:
            fix = in_vantage(fix, guest)
        else:
            fix = in_vantage(fix, where)
        fixes.append(fix)
    steps = [*fixes[:join], *extra]
    if len(steps) > 1 and all(f.runnable for f in steps):
        fixes[:join] = [Fix.sequence(steps)]
    ctx.found(cause, evidence=evidence, where=where, severity=severity, fixes=fixes, **tvars)


def subnet_of(address: str, prefixlen: int) -> ipaddress.IPv4Network | None:
    """The network an interface address sits in (None for what is not an address)."""
    try:
        return ipaddress.ip_interface(f"{address}/{prefixlen}").network  # type: ignore[return-value]
    except ValueError:
        return None


def contains(address: str, net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    """Is ``address`` in ``net``? (False for what is not an address)"""
    try:
        return ipaddress.ip_address(address) in net
    except ValueError:
        return False


def each(ctx: StepContext, cause: str, when: str, rows: Sequence[Mapping[str, Any]], where: Vantage | None) -> list[Fix]:
    """The cause's ``when = WHEN`` fix rendered once per row of values (one per tap, say), in ``where``."""
    from .render import in_vantage

    templates = [t for t in get_cause(cause).fixes if t.when == when]
    return [in_vantage(render_fix(t, ctx.lang, **values), where) for values in rows for t in templates]


def only(*whens: str) -> Callable[[FixTemplate], bool]:
    """``keep`` for :func:`found`: the unconditional fixes and those whose ``when`` is one of ``whens``.

    (Without it, facts that select no conditional fix offer all of them.)
    """
    return lambda template: not template.when or template.when in whens


def taps_to_reattach(ctx: StepContext, guest: Vantage, network: str, bridge: str,
                     restart: bool = False) -> list[dict[str, str]]:
    """Running guests' taps on ``network`` that are not on its ``bridge``: what ``net-start`` leaves off
    (with ``restart``, those on it too: ``net-destroy`` is about to take them off).

    From ``libvirt.path`` over every domain of the URI (not only the guest asked about):
    a restarted network strands all of them.
    """
    if not bridge:
        return []
    obs = ctx.observe("libvirt.path", guest, host=str(ctx.host))
    ctx.optional("libvirt.path", guest)  # only decides which taps the fix re-attaches
    rows = list(obs.rows) if obs.ok else []
    # Only taps the host showed: the test driver invents tap names, a remote host's are not seen.
    taps = dict.fromkeys(r.tap for r in rows
                         if r.network == network and r.tap and r.tap_present is True
                         and (restart or r.tap_master != bridge))
    return [{"port": tap, "bridge": bridge} for tap in taps]
