"""What a healthy verdict rests on: the measurements and checks that passed, from the record.

"No cause found" alone asks to be taken on trust. This lists what the walk itself
observed: each ping leg with its replies and round-trip time, the largest packet
with DF set that came back, the interfaces of the path, and the checks that passed.
Every line is read from the diagnosis's observations and step results; a
measurement that was not made is simply not listed (never a default value).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from vnetdoctor.knowledge.model import PASS, Diagnosis
from vnetdoctor.knowledge.path import PathPoint
from vnetdoctor.knowledge.text import Translator
from vnetdoctor.knowledge.trace import hop_label
from vnetdoctor.probes.base import Observation


def _observations(d: Diagnosis) -> Iterable[Observation]:
    for step in d.steps:
        yield from step.observations


def verified_lines(d: Diagnosis, tr: Translator, title: Callable[[str], str | None] = lambda step: None) -> list[str]:
    """One line per verified fact, in the operator's language (empty when nothing was).

    ``title``: a step's title in the operator's language (a replay in another language
    than the recording's), None to keep the recorded one.
    """
    # A record holds every run: the latest ping of each leg speaks, in the order legs first appeared.
    legs: dict[tuple[str, str], Observation] = {}
    for obs in _observations(d):
        if obs.probe == "icmp.echo" and obs.ok:
            legs[(obs.vantage, obs.param("dst", ""))] = obs
    lines = []
    for obs in legs.values():
        rtts = [r.rtt_ms for r in obs.rows if getattr(r, "rtt_ms", None) is not None]
        if rtts:
            dst = obs.param("dst", "") or getattr(obs.rows[0], "dst", "?")
            lines.append(tr("verdict.verified_rtt", sender=obs.vantage, dst=dst, replies=len(rtts),
                            sent=len(obs.rows), rtt=f"{min(rtts):.2f}–{max(rtts):.2f}"))
    df = [r.size + 28 for o in _observations(d) if o.probe == "icmp.pmtu" and o.ok
          for r in o.rows if getattr(r, "rtt_ms", None) is not None and getattr(r, "df", False)]
    if df:
        lines.append(tr("verdict.verified_df", size=max(df)))
    hops = d.extra.get("path") if d.extra else None
    if hops:
        named = (hop_label(h.side, h.iface, tr.lang) for h in hops if isinstance(h, PathPoint))
        lines.append(tr("verdict.verified_path", hops=" → ".join(named)))
    latest = {s.step: s for s in d.steps}  # a step run again counts once, as it ended
    passed = [title(s.step) or s.title for s in latest.values() if s.status == PASS]
    if passed:
        lines.append(tr("verdict.verified_checks", n=len(passed), titles="; ".join(passed)))
    return lines
