"""Transport layer: does the TCP port answer, and if not, is it closed or filtered?

An RST means the target's kernel answered: nothing listens — unless a listener is
there, in which case a firewall is forging the RST (``reject with tcp reset``).
Silence means something dropped the SYN: we say which rule, when one counted it.
"""

from __future__ import annotations

from typing import Any

from vnetdoctor.probes.vantage import Vantage

from .checks import check
from .checks_symptom import get_path
from .context import StepContext
from .model import Evidence
from .facts import rows
from .firewall_evidence import describe_suspect
from .firewall_match import Traffic, rule_vars, suspects


def start_tcp_connect(ctx: StepContext) -> None:
    """Start the TCP connect alongside the symptom's pings: a filtered port's 1 s timeout then
    overlaps theirs. It changes nothing they measure (a SYN is no echo, and its IP length is
    no ping's), and the firewall counters' "before" is read already when this is called."""
    port, sender = ctx.request.port, ctx.guest if ctx.request.from_side == "guest" else ctx.host
    if port and ctx.target and sender is not None:
        ctx.prefetch([("tcp.connect", sender, {"dst": ctx.target, "port": port})])


@check("transport.tcp")
def tcp(ctx: StepContext) -> None:
    port = ctx.request.port
    if not port:
        ctx.skip(ctx.t("transport.no_port"))
        return
    target = ctx.target
    if not target:
        ctx.skip(ctx.t("transport.no_target"))
        return
    path = get_path(ctx)
    sender = ctx.guest if ctx.request.from_side == "guest" else ctx.host
    assert sender is not None, "the request validator requires a guest for --from guest"
    receiver = None if path.outside else (ctx.host if sender == ctx.guest else ctx.guest)
    before = rows(ctx, "firewall.rules", receiver) if receiver is not None else []
    # Counters and listeners only tell a closed port from a filtered one: the verdict is the connect.
    ctx.optional("firewall.rules")
    ctx.optional("tcp.listen")
    obs = ctx.observe("tcp.connect", sender, dst=target, port=port)
    if not obs.ok:
        ctx.skip(ctx.t("transport.tcp_probe_failed", reason=obs.reason))
        return
    result = obs.rows[0]
    listening = None
    if receiver is not None:
        lst = ctx.observe("tcp.listen", receiver)
        if lst.ok:
            listening = any(r.port == port for r in lst.rows)
    evidence: list[str | Evidence] = [ctx.evidence(ctx.t("transport.tcp_result", target=target, port=port, sender=sender,
                                   state=result.state)
                             + (ctx.t("common.paren_suffix", text=result.error) if result.error else ""), obs)]
    if result.state == "open":
        ctx.passed(ctx.t("transport.open", target=target, port=port))
        return
    _confirm_refused(ctx, path, sender, target, port)
    after: list = []
    if receiver is not None:
        fresh = ctx.shared.observer.observe("firewall.rules", receiver, refresh=True)
        ctx.record(fresh)
        after = list(fresh.rows) if fresh.ok else []
    src = path.host_ip if sender == ctx.host else path.guest_ip
    t = Traffic("tcp", src or "", target, ("input", "prerouting"), tuple(i for i in (path.guest_dev,) if i), port=port)
    rules = suspects(before, after, t) if receiver is not None else []
    if result.state == "closed" and not (listening and rules):
        if listening is False:
            evidence.append(ctx.t("transport.nothing_listens", port=port, receiver=receiver))
        # No probe sees which unit should listen there: the fix stays guidance until one does.
        ctx.found("tcp.port_closed", evidence=evidence, where=receiver or sender, tcp_port=port, target=target,
                  service="")
        return
    evidence += [describe_suspect(s, ctx.lang) for s in rules[:3]]
    if listening:
        evidence.append(ctx.t("transport.listener_present", port=port, receiver=receiver))
    fw = rule_vars(rules[0].rule) if rules else {"family": "inet", "table": "filter", "chain": "input",
                                                   "handle": "", "rule": "", "backend": "", "manager": "none"}
    ctx.found("tcp.port_filtered", evidence=evidence, where=receiver or sender, tcp_port=port, target=target, **fw)


def _confirm_refused(ctx: StepContext, path: Any, sender: Vantage, target: str, port: int) -> None:
    """Two SYNs of a length unique to this run, with the kernel watching: a closed port's
    kernel drops them with NO_SOCKET in ``tcp_v4_rcv`` (and answers RST), a firewall with
    NETFILTER_DROP."""
    from .checks_kernel import SYN
    from .kernel_window import confirm, confirm_length

    length = confirm_length(600, 1200)  # above what a DNS packet in flight at the same time carries

    def send() -> None:
        ctx.observe("tcp.syn", sender, dst=target, port=port, length=length, count=2)
        ctx.optional("tcp.syn", sender)

    confirm(ctx, path, SYN, sender, length, 2, send)
