"""The first step: confirm the symptom, both ways, and see where the packets go.

Before any ping, the firewall counters and interface statistics of both ends are
read; right after, they are read again. Those two snapshots let later steps say
"this DROP rule counted our three echo requests" instead of guessing.
"""

from __future__ import annotations

from vnetdoctor.probes.base import Observation
from vnetdoctor.probes.vantage import Vantage

from .checks import check
from .context import StepContext
from .path import Path, compute_path
from .target_kind import classify, message
from .trace import DEAD_PATH_TIMEOUT_S, REPLY_TIMEOUT_S, Trace, dead_hop, run_trace


def sides(ctx: StepContext) -> list[tuple[str, Vantage]]:
    out: list[tuple[str, Vantage]] = [("host", ctx.host)]
    if ctx.guest is not None:
        out.append(("guest", ctx.guest))
    return out


def get_path(ctx: StepContext) -> Path:
    """The path (memoised); what its probes could not see becomes the asking step's background.

    A step that stops for want of a path fact ("the host end is not known") then
    says why the fact is missing (``needs CAP_SYS_ADMIN``) instead of implying it
    looked and found nothing.
    """
    def compute() -> tuple[Path, tuple[Observation, ...]]:
        scratch = StepContext(ctx.shared, ctx.step_id, ctx.layer)
        path = compute_path(scratch)
        return path, tuple(scratch.observations)

    path, observations = ctx.shared.memo("path_seen", compute)
    if ctx.facts.get("path") is not path:
        ctx.facts["path"] = path  # engine.path_points and diagnosis() read it from here
    for obs in observations:
        ctx.background(obs)
    return path


def routed_by_host(ctx: StepContext, path: Path) -> bool:
    """The target is beyond the host, which routes (not bridges) to it, as far as was seen.

    "Not bridged" stands when the host's bridge towards the guest was seen (and is not
    the uplink), or when every probe behind the path ran. With the guest's side unseen
    (a namespace this process may not enter) that bridge is unknown, and the host's IP
    forwarding would be blamed for traffic the host only bridges.
    """
    if not path.outside or path.bridged_through:
        return False
    _path, observations = ctx.facts.get("path_seen", (path, ()))
    return bool(path.host_bridge) or all(o.ok for o in observations)


def get_trace(ctx: StepContext) -> Trace | None:
    return ctx.facts.get("trace")


@check("symptom.ping")
def symptom_ping(ctx: StepContext) -> None:
    req = ctx.request
    if not ctx.target and ctx.guest is not None and ctx.guest.kind == "libvirt":
        from .discovery import discover_into

        discover_into(ctx)  # agent, then DHCP lease, then the host's neighbour table
    path = get_path(ctx)
    target = ctx.target
    if not target:
        target = path.guest_ip if req.from_side == "host" else path.host_ip
        if target:
            ctx.facts["target"] = target
            # The path was worked out without a target; now that we know it, redo it.
            ctx.shared.facts.pop("path", None)
            ctx.shared.facts.pop("path_seen", None)
            path = get_path(ctx)
    if not target:
        ctx.skip(ctx.t("symptom.no_target"))
        return
    wrong = classify(target)
    if wrong is not None:
        # A discovered address (a lease, the guest agent) is no request's validation:
        # never ping a broadcast or loopback address on its word.
        ctx.skip(message(wrong, ctx.lang))
        return
    if req.from_side == "host":
        sender, dst = ctx.host, target
        reverse_sender, reverse_dst = ctx.guest, path.host_ip
    else:
        if ctx.guest is None:
            ctx.skip(ctx.t("symptom.from_guest_needs_guest"))
            return
        sender, dst = ctx.guest, target
        reverse_sender = ctx.host if not path.outside else None
        reverse_dst = (path.guest_ip or ctx.facts.get("guest_address")) if not path.outside else None

    # Counters before: the firewall rules and link statistics of both ends.
    before: dict[str, object] = {}
    links_before: dict[str, tuple[object, ...]] = {}
    for side, vantage in sides(ctx):
        fw, links = ctx.observe("firewall.rules", vantage), ctx.observe("link.list", vantage)
        before[side] = (fw, links)
        links_before[str(vantage)] = links.rows if links.ok else ()
    ctx.facts["before"] = before
    hop_side = {(str(h.vantage), h.iface): h.side for h in (*path.hops, *path.extra)}
    from .checks_transport import start_tcp_connect

    start_tcp_connect(ctx)
    # A device on the path that passes nothing: no reply can come, so do not wait for one.
    # The bridge ports were read in the background at the start (the bridge check records
    # them): this only shortens the wait, so it is no dependency of this step.
    ports = ctx.shared.observer.observe("bridge.ports", ctx.host) if path.host_port else None
    dead = dead_hop(path, links_before, ports.rows if ports is not None and ports.ok else ())
    # The pings go through the session's observer like every probe (live, or served from a record).
    trace = run_trace(path, sender, dst, reverse_sender, reverse_dst, hop_side, kernel=req.kernel_drops,
                      observe=ctx.shared.observer.observe,
                      timeout=DEAD_PATH_TIMEOUT_S if dead is not None else REPLY_TIMEOUT_S)
    ctx.facts["trace"] = trace
    from .kernel_rules import trace_rules_if_asked

    trace_rules_if_asked(ctx, trace, path)  # opt-in (--trace-rules): the exact nftables rule
    after: dict[str, object] = {}
    for side, vantage in sides(ctx):
        fw = ctx.shared.observer.observe("firewall.rules", vantage, refresh=True)
        links = ctx.shared.observer.observe("link.list", vantage, refresh=True)
        after[side] = (fw, links)
    ctx.facts["after"] = after
    from .checks_datalink import start_active_probes

    start_active_probes(ctx)

    for leg in (trace.forward, trace.reverse):
        if leg is not None:
            ctx.record(leg.echo)
    ctx.record(trace.capture)
    for kernel_obs in trace.kernel:
        ctx.record(kernel_obs)

    fwd = trace.forward
    assert fwd is not None
    for obs in ctx.observations:
        if obs is not fwd.echo:
            # Counters, captures, discovery and the reverse leg (whose note says when it was
            # skipped) sharpen the result; the pass itself rests on the forward pings.
            ctx.optional(obs.probe, obs.vantage)
    if not fwd.echo.ok:
        ctx.skip(ctx.t("symptom.cannot_ping", sender=sender, reason=fwd.echo.reason))
        return
    parts = [fwd.line(ctx.lang)]
    if trace.reverse is not None:
        rev = trace.reverse
        if rev.echo.ok:
            parts.append(rev.line(ctx.lang))
        else:
            parts.append(ctx.t("trace.leg", sender=rev.sender, dst=rev.dst,
                               where=ctx.t("trace.leg_skipped", reason=rev.echo.reason)))
    note = ctx.join_clauses(parts)
    if trace.reachable:
        ctx.passed(note)
    else:
        ctx.fail(note)
