"""``--trace-rules``: after the kernel reported NETFILTER_DROP, name the exact nftables rule.

Opt-in (it adds a temporary table to the ruleset where the drop happened; see
:mod:`vnetdoctor.probes.nft_trace`). Run by the symptom check right after its pings,
only when the request asks for it and the kernel's verdict on a leg's packets is a
netfilter drop in a namespace this host can enter. One more ping of the same leg,
with the same length, is what gets traced; the verdict joins the firewall cause's
evidence (:func:`.checks_kernel.kernel_evidence`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vnetdoctor.probes.base import run_probe
from vnetdoctor.probes.kernel_drops_parse import DROP
from vnetdoctor.probes.nft_trace import NftTraceRow, final_verdict, trace_rule

from .checks_kernel import verdicts
from .kernel_window import ICMP_OVERHEAD

if TYPE_CHECKING:
    from .context import StepContext
    from .path import Path
    from .trace import Trace


def trace_rules_if_asked(ctx: StepContext, trace: Trace, path: Path) -> None:
    """Trace the dropped leg's next ping through nftables; record it, keep the verdict as a fact."""
    if not ctx.request.trace_rules:
        return
    for row in verdicts(ctx.facts):
        if row.verdict != DROP or row.reason != "NETFILTER_DROP" or row.kind == "arp":
            continue
        leg = trace.forward if row.probe == "forward" else trace.reverse
        vantage = ctx.guest if row.side == "guest" else ctx.host if row.side == "host" else None
        if leg is None or vantage is None or vantage.kind not in ("local", "netns"):
            continue
        size = row.length - ICMP_OVERHEAD
        here = path.host_ip if leg.sender == ctx.host else path.guest_ip
        src, dst = (here, leg.dst) if row.kind == "request" else (leg.dst, here)
        if dst is None:
            continue  # the address this packet went to was never learnt: nothing to match on

        def send(leg: Any = leg, size: int = size) -> object:
            return run_probe("icmp.echo", leg.sender, dst=leg.dst, count=1, size=size, timeout=0.2, ident=leg.ident)

        obs = trace_rule(vantage, src, dst, row.length, send=send)
        ctx.record(obs)
        ctx.optional(obs.probe, obs.vantage)
        final = final_verdict([r for r in obs.rows if isinstance(r, NftTraceRow)])
        if final is not None:
            ctx.facts.setdefault("nft_trace", []).append(final)
        return  # one traced drop names the rule; the other leg's would cost one more table

