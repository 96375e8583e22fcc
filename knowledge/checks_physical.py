"""Physical layer: does the guest have a NIC, and is every link on the path up?

Only interfaces on the path count: a down interface elsewhere on the host is not
this ticket's problem. When a veth end has no carrier because its peer is down,
the peer is named, not the end that merely reflects it.
"""

from __future__ import annotations

from .checks import check
from .checks_symptom import get_path
from .context import StepContext
from .facts import links
from .trace import hop_label


@check("physical.guest_nic")
def guest_nic(ctx: StepContext) -> None:
    guest = ctx.guest
    if guest is None:
        ctx.skip(ctx.t("physical.no_guest_vantage"))
        return
    obs = ctx.observe("link.list", guest)
    if not obs.ok:
        ctx.skip(ctx.t("physical.guest_links_unavailable", reason=obs.reason))
        return
    nics = [r for r in obs.rows if r.kind != "loopback" and r.name != "lo"]
    if not nics:
        evidence = [ctx.evidence(ctx.t("physical.guest_only_lo", guest=guest), obs)]
        if guest.kind == "libvirt":
            # The domain has no <interface> at all: attach one, from the host.
            net = _libvirt_network(ctx)
            ctx.found("guest.no_nic", evidence=evidence, where=ctx.host, domain=guest.name, network=net,
                      mac=_new_mac(guest.name), nic="none")
        else:
            # A NIC the guest does not see is most often a missing driver (virtio_net).
            ctx.found("guest.no_nic", evidence=evidence, where=guest, domain=guest.name, network="",
                      mac="", nic="no-driver")
        return
    ctx.passed(ctx.t("physical.guest_nics", nics=ctx.join(r.name for r in nics)))


@check("physical.links")
def path_links(ctx: StepContext) -> None:
    path = get_path(ctx)
    host_links = links(ctx, ctx.host)
    guest_links = links(ctx, ctx.guest)
    if ctx.guest is not None:
        # The note lists the hops that were checked; the guest's are left out when unseen.
        ctx.optional("link.list", ctx.guest)
    checked: list[str] = []

    guest_row = guest_links.get(path.guest_dev or "")
    if guest_row is not None:
        checked.append(hop_label("guest", guest_row.name, ctx.lang))
        if not guest_row.admin_up:
            ctx.found(
                "link.guest_if_down",
                evidence=[ctx.saw(ctx.t("physical.guest_if_admin_down", dev=guest_row.name, guest=ctx.guest,
                                        state=guest_row.operstate), "link.list", ctx.guest)],
                where=ctx.guest,
                dev=guest_row.name,
                state=guest_row.operstate,
            )
    guest_down = guest_row is not None and not guest_row.admin_up

    host_names = [n for n in (path.host_port, path.host_bridge or path.host_dev, path.uplink) if n]
    for name in dict.fromkeys(host_names):
        row = host_links.get(name)
        if row is None:
            continue
        checked.append(hop_label("host", name, ctx.lang))
        if not row.admin_up:
            ctx.found(
                "link.host_if_down",
                evidence=[ctx.saw(ctx.t("physical.host_if_admin_down", dev=name, host=ctx.host, state=row.operstate),
                                  "link.list", ctx.host)],
                where=ctx.host,
                dev=name,
                state=row.operstate,
            )
        elif not row.carrier and not guest_down:
            if row.kind == "bridge":
                continue  # a bridge has no carrier when no port forwards: a consequence, not a cause
            if name == path.host_port and guest_row is not None:
                continue  # guest end up, host end without carrier: reported by the guest side
            ctx.found(
                "link.host_if_down",
                evidence=[ctx.saw(ctx.t("physical.host_if_no_carrier", dev=name, host=ctx.host, state=row.operstate),
                                  "link.list", ctx.host)],
                where=ctx.host,
                dev=name,
                state=row.operstate,
            )
    if not ctx.findings and not checked:  # no link of the path seen: none to call up
        ctx.skip(ctx.t("physical.no_path_links"), concluded=True)
    elif not ctx.findings:
        ctx.passed(ctx.t("physical.links_up", links=ctx.join(checked)))


@check("physical.cable")
def cable(ctx: StepContext) -> None:
    """Only a human can see a switch port LED: ask when a physical NIC on the path has no carrier."""
    path = get_path(ctx)
    host_links = links(ctx, ctx.host)
    suspects = []
    for name, row in host_links.items():
        on_path = name in (path.uplink, path.host_port) or (path.host_bridge and row.master == path.host_bridge)
        physical = row.kind in ("", "ether") and row.name != "lo" and row.driver not in ("", "veth", "tun", "bridge")
        if on_path and physical and row.admin_up and not row.carrier:
            suspects.append(name)
    if not suspects:
        ctx.skip(ctx.t("physical.no_nic_without_carrier"), concluded=True)
        return
    ctx.ask_node(where=ctx.host, uplink=suspects[0], dev=suspects[0], state="NO-CARRIER")


def _libvirt_network(ctx: StepContext) -> str:
    obs = ctx.observe("libvirt.networks", ctx.guest) if ctx.guest is not None else None
    ctx.optional("libvirt.networks")  # only names the network in the fix ("default" otherwise)
    if obs is not None and obs.ok:
        active = [r for r in obs.rows if getattr(r, "active", False)]
        if active:
            return str(active[0].name)
    return "default"


def _new_mac(seed: str) -> str:
    """A stable QEMU-range MAC for a new NIC of this domain."""
    import hashlib

    digest = hashlib.sha256(seed.encode()).digest()
    return "52:54:00:" + ":".join(f"{b:02x}" for b in digest[:3])
