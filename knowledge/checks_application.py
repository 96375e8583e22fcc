"""Application layer: can the guest resolve names? And the guest console question.

A guest that pings fine but "has no network" usually cannot resolve names. The
check asks each resolver the guest is configured with, from inside the guest.
"""

from __future__ import annotations

from .checks import check
from .context import StepContext
from .model import Evidence


FAILED_RCODES = ("REFUSED", "SERVFAIL", "NOTIMP", "FORMERR")


BROKEN_PATH_WAIT_S = 0.3  # how long the DNS probe waits for an answer once the pings failed


@check("application.dns")
def dns(ctx: StepContext) -> None:
    guest = ctx.guest
    if guest is None:
        ctx.skip(ctx.t("application.no_guest_vantage"))
        return
    trace = ctx.facts.get("trace")
    if trace is not None and trace.reachable is False:
        # The path is broken already, so no answer here is a skip (below), never a cause: only a
        # pass is left to find, and a resolver that answers does so in milliseconds.
        obs = ctx.observe("dns.resolve", guest, timeout=BROKEN_PATH_WAIT_S)
    else:
        obs = ctx.observe("dns.resolve", guest)
    if not obs.ok:
        ctx.skip(ctx.t("application.dns_probe_failed", reason=obs.reason))
        return
    # An answer is not a working resolver: REFUSED/SERVFAIL say it will not resolve for us.
    good = [r for r in obs.rows if r.state == "answered" and r.rcode not in FAILED_RCODES]
    if not good and trace is not None and trace.reachable is False:
        # The guest cannot even ping across the path: its resolver (often the host) is out of
        # reach for the same reason, so naming DNS would point away from the real fault.
        ctx.skip(ctx.t("application.path_broken_first"))
        return
    if good:
        ctx.passed(ctx.join(
            ctx.t("application.resolver_answers", resolver=r.resolver, rcode=r.rcode, rtt_ms=r.rtt_ms)
            if r.rtt_ms is not None and r.rcode
            else ctx.t("application.resolver_answers_rcode", resolver=r.resolver, rcode=r.rcode or "?")
            for r in good))
        return
    ev: list[str | Evidence] = [ctx.evidence(
        ctx.t("application.resolver_state", resolver=r.resolver or ctx.t("application.no_resolver"),
              source=r.source, state=r.rcode if r.state == "answered" and r.rcode else r.state)
        + (ctx.t("common.paren_suffix", text=r.error) if r.error else ""), obs)
        for r in obs.rows]
    # Suggest the host's address on the guest's segment (where libvirt's dnsmasq answers),
    # never the resolver that just failed.
    from .checks_symptom import get_path

    path = get_path(ctx)
    systemd = any("127.0.0.53" == r.resolver for r in obs.rows)
    below = [cause for _layer, cause, severity in ctx.facts.get("named", []) if severity == "fail"]
    if below:
        # Not a probe's word: the walk's own findings at lower layers.
        ev.append(Evidence(ctx.t("application.may_follow_from", causes=ctx.join(below)), "findings", "engine"))
    failed = {r.resolver for r in obs.rows}
    resolver = path.host_ip if path.host_ip and path.host_ip not in failed else ""
    ctx.found("dns.unresolvable", evidence=ev, where=guest, resolver=resolver,
              severity="warn" if below else "fail",
              dev=path.guest_dev or "", when_resolver="systemd-resolved" if systemd else "resolv.conf")


@check("application.guest_console")
def guest_console(ctx: StepContext) -> None:
    """What no probe can see: the inside of a guest we have no way into."""
    guest = ctx.guest
    if guest is not None:
        obs = ctx.observe("link.list", guest)
        if obs.ok:
            ctx.skip(ctx.t("common.guest_visible"))
            return
        ctx.optional("link.list", guest)  # what it could not see is what the question asks
    trace = ctx.facts.get("trace")
    if trace is not None and trace.reachable:
        ctx.skip(ctx.t("application.guest_answers"))
        return
    # Nothing inside the guest is known: no interface name is guessed for its fixes, and
    # they are for its console (vnetdoctor cannot run anything in there, nor on this host).
    console = ctx.t("application.console_of", guest=str(guest)) if guest is not None else ctx.t("application.guest_console")
    ctx.ask_node(where=guest, fix_where=console, dev="", ip=ctx.target or "")
