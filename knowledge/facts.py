"""Small lookups every check needs: rows by name, sysctl values, the receiving side."""

from __future__ import annotations

from typing import Any

from vnetdoctor.probes.vantage import Vantage

from .context import StepContext


def rows(ctx: StepContext, probe: str, vantage: Vantage | None, **params: Any) -> list[Any]:
    if vantage is None:
        return []
    obs = ctx.observe(probe, vantage, **params)
    return list(obs.rows) if obs.ok else []


def links(ctx: StepContext, vantage: Vantage | None) -> dict[str, Any]:
    return {link.name: link for link in rows(ctx, "link.list", vantage)}


def sysctls(ctx: StepContext, vantage: Vantage | None) -> dict[str, str]:
    return {r.key: r.value for r in rows(ctx, "sysctl.net", vantage)}


def sysctl_int(values: dict[str, str], key: str, default: int = 0) -> int:
    try:
        return int(values.get(key, default))
    except ValueError:
        return default


def conf_max(values: dict[str, str], dev: str, name: str) -> int:
    """The effective value of net.ipv4.conf.{all,DEV}.NAME where the kernel takes the max."""
    return max(
        sysctl_int(values, f"net.ipv4.conf.all.{name}"),
        sysctl_int(values, f"net.ipv4.conf.{dev}.{name}"),
    )


def snapshots(ctx: StepContext, side: str, index: int = 0) -> tuple[list[Any], list[Any]]:
    """(before, after) rows of what the symptom step read around its pings.

    ``index`` 0 is the firewall rules, 1 the link list. Both observations are recorded
    into the asking step, so its evidence carries the counters it compared.
    """
    pair = []
    for phase in ("before", "after"):
        obs = ctx.facts.get(phase, {}).get(side, (None, None))[index]
        if obs is not None:
            ctx.record(obs)
        pair.append(list(obs.rows) if obs is not None and obs.ok else [])
    before, after = pair
    return before, after or before
