"""A suspected firewall rule as one evidence line, in the operator's language.

:class:`.firewall_match.Suspect` carries the rule and, in ``why``, an English
reason ("counter +3 while the probes ran"). The firewall, data-link and transport
checks all quote suspects, so the bilingual wording lives here once: the reason
is worked out again from the suspect's facts (a counter that moved, a rule text
that matched, a chain policy) and taken from ``data/evidence.toml``.
"""

from __future__ import annotations

from .text import tr
from .firewall_match import Suspect


def suspect_reason(s: Suspect, lang: str = "en") -> str:
    """Why this rule is suspected, in ``lang``.

    The English wording is checked against ``s.why``: should firewall_match ever
    give a reason this module does not know, that reason is shown as it is rather
    than a translation of a different one.
    """

    def say(in_lang: str) -> str:
        if s.delta:
            return tr("firewall.counter_moved", in_lang, delta=s.delta)
        if s.rule.rule:
            return tr("firewall.text_match", in_lang)
        return tr("firewall.policy_drop", in_lang, hook=s.rule.hook)

    return say(lang) if say("en") == s.why else s.why


def describe_suspect(s: Suspect, lang: str = "en") -> str:
    """``nftables inet filter input: <rule> (handle 2) — <why>``; in English exactly ``s.describe()``."""
    r = s.rule
    chain = f"{r.backend} {r.family} {r.table} {r.chain}"
    what = r.rule or tr("firewall.policy", lang, policy=r.policy)
    why = suspect_reason(s, lang)
    if r.handle is not None:
        return tr("firewall.suspect_handle", lang, chain=chain, rule=what, handle=r.handle, why=why)
    return tr("firewall.suspect", lang, chain=chain, rule=what, why=why)


__all__ = ["describe_suspect", "suspect_reason"]
