"""Question nodes of the platform layer: what only the operator can see.

Hypervisor GUIs (VMware, VirtualBox, Hyper-V on Windows) keep the "adapter
connected / attached to which virtual switch" settings where no probe on a Linux
host can read them. The question is asked only when the guest is out of the
probes' sight and the target does not answer.
"""

from __future__ import annotations

from .checks import check
from .context import StepContext


@check("platform.hypervisor_settings")
def hypervisor_settings(ctx: StepContext) -> None:
    trace = ctx.facts.get("trace")
    if trace is not None and trace.reachable:
        ctx.skip(ctx.t("platform.adapter_connected"))
        return
    if ctx.guest is not None and ctx.guest.kind != "libvirt":
        obs = ctx.observe("link.list", ctx.guest)
        # Visible only when it was seen: a namespace this process may not enter was not.
        ctx.skip(ctx.t("common.guest_visible") if obs.ok
                 else ctx.t("physical.guest_links_unavailable", reason=obs.reason))
        return
    if ctx.guest is not None:
        obs = ctx.observe("libvirt.interfaces", ctx.guest, domain=ctx.guest.name)
        if obs.ok:
            ctx.skip(ctx.t("platform.libvirt_describes_adapters"))
            return
        ctx.optional("libvirt.interfaces", ctx.guest)  # what it could not see is what the question asks
    ctx.ask_node(where=ctx.host, domain=ctx.guest.name if ctx.guest else "", iface="", dev="")
