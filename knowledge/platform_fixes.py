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
    **tvars: Any,
) -> None:
    """Name a cause with only the fixes that fit what was seen.

    A catalogue fix may carry ``when = "key=value"``: it is kept when ``facts``
    holds that pair (``state=paused`` keeps ``virsh resume``, not ``virsh start``;
    the engine's ``applicable`` rules).
    ``keep`` narrows further, by template. ``virsh`` commands talk to the guest's URI and run
    on this machine; any other command of a libvirt cause runs inside ``guest``
    (none given: in ``where``).
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
