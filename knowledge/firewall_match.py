"""Which firewall rules could have dropped our probe traffic, and which surely did.

Two kinds of proof, strongest first: a DROP/REJECT rule whose packet counter moved
while our probes ran (the kernel counted our packets), and, for rules without a
counter, a rule whose text matches the traffic (protocol, ICMP type, addresses,
interfaces, port) in a chain on the hook the packet had to cross. A base chain
whose policy is drop counts when nothing in it accepted the packet.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from vnetdoctor.probes.firewall_parse import rule_words

from .catalog import Words

DROPPING = ("drop", "reject")


@dataclass(frozen=True)
class Traffic:
    """The packets we sent, as a firewall on one machine sees them."""

    proto: str  # "icmp" | "tcp" | "arp"
    src: str
    dst: str
    hooks: tuple[str, ...]  # hooks the packet crosses there: input, output, forward, prerouting, postrouting
    ifaces: tuple[str, ...] = ()  # interfaces it enters/leaves by on that machine
    port: int | None = None
    families: tuple[str, ...] = ("ip", "inet")


@dataclass(frozen=True)
class Suspect:
    rule: Any  # FirewallRow
    delta: int | None  # packets counted during the probe (None: rule has no counter)
    why: str  # "counter +3 during the probe", "matches icmp echo-request", "policy drop"

    def describe(self) -> str:
        r = self.rule
        where = f"{r.backend} {r.family} {r.table} {r.chain}"
        what = r.rule or f"policy {r.policy}"
        handle = f" (handle {r.handle})" if r.handle is not None else ""
        return f"{where}: {what}{handle} — {self.why}"


def rule_key(r: Any) -> tuple:
    return (r.backend, r.family, r.table, r.chain, r.handle if r.handle is not None else r.position, r.rule)


def counter_deltas(before: Sequence[Any], after: Sequence[Any]) -> dict[tuple, int]:
    old = {rule_key(r): r.packets for r in before if r.packets is not None}
    out = {}
    for r in after:
        k = rule_key(r)
        if r.packets is not None and k in old:
            out[k] = r.packets - old[k]
    return out


_ADDR = re.compile(r"\b(saddr|daddr|-s|-d|--source|--destination)\s+(!=\s*)?([0-9a-fA-F.:/]+)")
_IFACE = re.compile(r"\b(iifname|oifname|iif|oif|-i|-o|--in-interface|--out-interface)\s+(!=\s*)?\"?([\w.+*-]+)\"?")
_PORT = re.compile(r"\b(dport|--dport|--destination-port)\s+(!=\s*)?\{?\s*([\d, -]+)")


def _addr_matches(spec: str, ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(spec, strict=False)
    except ValueError:
        return True  # a set or a name we cannot evaluate: do not rule it out


def text_matches(rule: str, t: Traffic) -> bool:
    """Could this rule's match part select our packets? (True when unsure)."""
    text = rule.lower()
    other_protos = {"tcp", "udp", "icmp", "icmpv6", "sctp", "arp", "gre", "esp"} - {t.proto}
    words = set(re.findall(r"[a-z0-9-]+", text))
    if words & other_protos and t.proto not in words:
        # "-p tcp", "tcp dport 22", "meta l4proto udp": another protocol only.
        if not (t.proto == "icmp" and ("icmp" in text)):
            return False
    for m in _ADDR.finditer(text):
        field, negated, spec = m.group(1), bool(m.group(2)), m.group(3)
        ip = t.src if field in ("saddr", "-s", "--source") else t.dst
        hit = _addr_matches(spec, ip)
        if hit == negated:
            return False
    for m in _IFACE.finditer(text):
        negated, name = bool(m.group(2)), m.group(3).rstrip('"')
        if not t.ifaces:
            continue
        pattern = name.replace("*", ".*").replace("+", ".*")
        hit = any(re.fullmatch(pattern, i) for i in t.ifaces)
        if hit == negated:
            return False
    if t.port is not None:
        for m in _PORT.finditer(text):
            negated = bool(m.group(2))
            ports = _ports(m.group(3))
            if ports and ((t.port in ports) == negated):
                return False
    return True


def _ports(text: str) -> set[int]:
    out: set[int] = set()
    for part in re.split(r"[,\s]+", text.strip()):
        if "-" in part:
            lo, _, hi = part.partition("-")
            if lo.isdigit() and hi.isdigit():
                out.update(range(int(lo), int(hi) + 1))
        elif part.isdigit():
            out.add(int(part))
    return out


def reachable_chains(rows: Sequence[Any], hooks: Iterable[str], families: Iterable[str]) -> set[tuple]:
    """(backend, family, table, chain) of base chains on these hooks and every chain they jump to."""
    hooks, families = set(hooks), set(families)
    chains = {
        (r.backend, r.family, r.table, r.chain)
        for r in rows
        if r.hook in hooks and r.family in families and not r.rule
    }
    changed = True
    while changed:
        changed = False
        for r in rows:
            key = (r.backend, r.family, r.table, r.chain)
            if key in chains and r.verdict.startswith(("jump ", "goto ")):
                target = (r.backend, r.family, r.table, r.verdict.split(None, 1)[1])
                if target not in chains:
                    chains.add(target)
                    changed = True
    return chains


def suspects(before: Sequence[Any], after: Sequence[Any], t: Traffic) -> list[Suspect]:
    """Rules on the traffic's hooks that dropped it (counter moved) or would (text matches)."""
    rows = list(after) or list(before)
    deltas = counter_deltas(before, after)
    chains = reachable_chains(rows, t.hooks, t.families)
    found: list[Suspect] = []
    accepted_somewhere = False
    for r in rows:
        if (r.backend, r.family, r.table, r.chain) not in chains or not r.rule:
            continue
        delta = deltas.get(rule_key(r))
        verdict = r.verdict.split()[0] if r.verdict else ""
        if verdict == "accept" and delta:
            accepted_somewhere = True
        if verdict not in DROPPING:
            continue
        if delta:
            found.append(Suspect(r, delta, f"counter +{delta} while the probes ran"))
        elif delta is None and text_matches(r.rule, t):
            found.append(Suspect(r, None, "matches the probe traffic (the rule has no counter)"))
    if not found and not accepted_somewhere:
        for r in rows:
            if (
                not r.rule
                and r.policy == "drop"
                and r.hook in t.hooks
                and r.family in t.families
                and not _accepting_rule_matches(rows, r, t)
            ):
                found.append(Suspect(r, None, f"the {r.hook} chain's policy is drop and no rule accepts the probe traffic"))
    # Strongest proof first: moved counters, then text matches, then policies.
    found.sort(key=lambda s: (s.delta is None, not s.rule.rule, -(s.delta or 0)))
    return found


def _accepting_rule_matches(rows: Sequence[Any], chain_row: Any, t: Traffic) -> bool:
    for r in rows:
        if (r.backend, r.family, r.table, r.chain) == (
            chain_row.backend, chain_row.family, chain_row.table, chain_row.chain
        ) and r.rule and r.verdict.startswith("accept"):
            if "established" in r.rule.lower() and "new" not in r.rule.lower():
                continue  # our echo requests open no connection of their own
            if text_matches(r.rule, t):
                return True
    return False


_BACKEND_WORD = {"nftables": "nft", "iptables-nft": "iptables", "iptables-legacy": "iptables-legacy",
                 "ebtables": "ebtables"}


def rule_vars(r: Any) -> dict[str, Any]:
    """Template variables (and ``when`` facts) describing one firewall row.

    A chain's policy is no rule: its fixes are the policy ones (``when = "policy=…"``),
    never "delete rule … handle", so the backend fact is withheld for it.
    ``rule`` is the rule's own argv words (:class:`~.catalog.Words`), split from the
    probe's row by the rules of the tool that listed it.
    """
    if not r.rule:
        return {
            "family": r.family,
            "table": r.table,
            "chain": r.chain,
            "handle": "",
            "rule": Words(f"policy {r.policy}", None),
            "backend": "",
            "manager": r.manager or "none",
            "policy": "nft-drop" if r.backend == "nftables" and r.policy == "drop" else r.policy,
        }
    return {
        "family": r.family,
        "table": r.table,
        "chain": r.chain,
        "handle": r.handle if r.handle is not None else "",
        "rule": Words(r.rule, rule_words(r.backend, r.rule)),
        "backend": _BACKEND_WORD.get(r.backend, r.backend),
        "manager": r.manager or "none",
        "policy": "",
    }
