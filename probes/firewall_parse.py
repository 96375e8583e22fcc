"""Turn nftables and iptables output into FirewallRows: pure functions, no I/O.

One host can run several firewalls at once, and a dropped ping may hide in any
of them: native nftables tables, iptables-nft (which lives in nftables tables
named ``filter``/``nat``/... with upper-case chains), iptables-legacy (invisible
to ``nft``), and the bridge family (nft ``bridge`` tables, or ebtables-nft).
Every rule and every chain becomes one row with the same columns, so rules in
:mod:`vnetdoctor.knowledge` ask one question ("is there a drop on the path?")
whatever the backend.

Readable rule text comes from what operators know: ``nft -a list ruleset``
lines (keyed by handle) and ``iptables-save`` lines. Counters are normalised
out of the text (``counter``) so that two sessions' rules can be compared.

``manager`` names who most likely wrote a rule, from the table/chain naming
conventions of libvirt, Docker, firewalld and ufw; that is what lets a
diagnosis say "Docker's FORWARD DROP policy" instead of "some rule".
"""


from __future__ import annotations

from collections.abc import Mapping

from .firewall_backends import (
    BUILTIN_HOOKS,
    COMPAT_BACKEND,
    COMPAT_TABLES,
    EBTABLES,
    IPTABLES_LEGACY,
    IPTABLES_NFT,
    NFTABLES,
    chain_manager,
    policy_manager,
    rule_manager,
)
from .firewall_nft import (
    NftChain,
    NftRuleset,
    int_or_none,
    nft_rule_text_fallback,
    nft_counters,
    nft_verdict,
    parse_nft_json,
    parse_nft_text,
)
from .firewall_save import SaveTable, parse_save, save_verdict
from .firewall_words import rule_words
from .rows import FirewallRow

# The parsers' door: the firewall probes, the rules and the tests import from here.
__all__ = [
    "COMPAT_BACKEND", "COMPAT_TABLES", "EBTABLES", "IPTABLES_LEGACY", "IPTABLES_NFT", "NFTABLES",
    "NftChain", "NftRuleset", "SaveTable", "chain_manager", "compat_tables", "legacy_rows", "nft_counters",
    "nft_rows", "nft_verdict", "parse_nft_json", "parse_nft_text", "parse_save", "policy_manager",
    "rule_manager", "rule_words", "save_verdict",
]

# NF_IP_PRI_* (linux/netfilter_ipv4.h): the priorities legacy tables hook at.
_LEGACY_PRIORITY: dict[str, dict[str | None, int]] = {
    "raw": {None: -300},
    "mangle": {None: -150},
    "nat": {"PREROUTING": -100, "OUTPUT": -100, "INPUT": 100, "POSTROUTING": 100},
    "filter": {None: 0},
    "security": {None: 50},
}

def legacy_rows(tables: Mapping[str, SaveTable], family: str) -> list[FirewallRow]:
    """Rows for iptables-legacy tables (``family`` ip or ip6)."""
    rows: list[FirewallRow] = []
    for table in tables.values():
        for chain in table.chains:
            rules = table.rules_of(chain.name)
            managers = [rule_manager(family, table.name, r.chain, r.verdict) for r in rules]
            hook = BUILTIN_HOOKS.get(chain.name, "") if chain.policy else ""
            rows.append(
                FirewallRow(
                    backend=IPTABLES_LEGACY,
                    family=family,
                    table=table.name,
                    chain=chain.name,
                    hook=hook,
                    policy=chain.policy,
                    priority=_legacy_priority(table.name, chain.name) if hook else None,
                    rule="",
                    verdict=chain.policy,
                    packets=chain.packets,
                    bytes=chain.bytes,
                    manager=policy_manager(family, table.name, chain.name, chain.policy, managers)
                    if hook
                    else chain_manager(family, table.name, chain.name),
                    position=len(rules),
                )
            )
            for position, (rule, manager) in enumerate(zip(rules, managers, strict=True)):
                rows.append(
                    FirewallRow(
                        backend=IPTABLES_LEGACY,
                        family=family,
                        table=table.name,
                        chain=chain.name,
                        hook=hook,
                        policy="",
                        priority=None,
                        rule=rule.text,
                        verdict=rule.verdict,
                        packets=rule.packets,
                        bytes=rule.bytes,
                        manager=manager,
                        position=position,
                    )
                )
    return rows


def _legacy_priority(table: str, chain: str) -> int | None:
    table_prios = _LEGACY_PRIORITY.get(table)
    if not table_prios:
        return None
    return table_prios.get(chain, table_prios.get(None))


def compat_tables(
    ruleset: NftRuleset, saved: Mapping[str, Mapping[str, SaveTable]]
) -> dict[tuple[str, str], SaveTable]:
    """Which nft tables iptables-nft/ebtables-nft own: those their save tool lists, same chains.

    ``saved`` maps an nft family to the parsed output of its save tool.
    """
    out: dict[tuple[str, str], SaveTable] = {}
    for family, name in ruleset.tables:
        if name not in COMPAT_TABLES.get(family, ()):
            continue
        table = saved.get(family, {}).get(name)
        if table is None:
            continue
        nft_chains = {c.name for c in ruleset.chains_of(family, name)}
        # iptables-nft creates built-in chains only when first used, while its
        # save tool always prints them: nft may list fewer, never other, chains.
        missing = table.chain_names() - nft_chains
        if nft_chains <= table.chain_names() and all(
            chain.policy and not table.rules_of(chain.name)
            for chain in table.chains
            if chain.name in missing
        ):
            out[(family, name)] = table
    return out


def nft_rows(
    ruleset: NftRuleset,
    texts: Mapping[tuple[str, str, str, int], str],
    compat: Mapping[tuple[str, str], SaveTable],
) -> list[FirewallRow]:
    """Rows for everything ``nft`` lists; compat tables get their iptables text and backend."""
    rows: list[FirewallRow] = []
    for chain in ruleset.chains.values():
        save_table = compat.get((chain.family, chain.table))
        backend = COMPAT_BACKEND[chain.family] if save_table else NFTABLES
        save_rules = save_table.rules_of(chain.name) if save_table else []
        rule_rows = []
        for position, rule in enumerate(chain.rules):
            exprs = rule.get("expr", [])
            verdict = nft_verdict(exprs)
            packets, bytes_ = nft_counters(exprs)
            handle = int_or_none(rule.get("handle"))
            saved = save_rules[position] if position < len(save_rules) else None
            if saved is not None:
                text = saved.text
                verdict = verdict or saved.verdict
                if packets is None:
                    packets, bytes_ = saved.packets, saved.bytes
            else:
                key = (chain.family, chain.table, chain.name, handle if handle is not None else -1)
                text = texts.get(key) or nft_rule_text_fallback(rule)
                if rule.get("comment") and "comment" not in text:
                    text += f' comment "{rule["comment"]}"'
            rule_rows.append(
                FirewallRow(
                    backend=backend,
                    family=chain.family,
                    table=chain.table,
                    chain=chain.name,
                    hook=chain.hook,
                    policy="",
                    priority=None,
                    rule=text,
                    verdict=verdict,
                    handle=handle,
                    packets=packets,
                    bytes=bytes_,
                    manager=rule_manager(chain.family, chain.table, chain.name, verdict),
                    position=position,
                )
            )
        chain_counts: tuple[int | None, int | None] = (None, None)
        if save_table:
            for saved_chain in save_table.chains:
                if saved_chain.name == chain.name:
                    chain_counts = (saved_chain.packets, saved_chain.bytes)
        manager = (
            policy_manager(
                chain.family, chain.table, chain.name, chain.policy, [r.manager for r in rule_rows]
            )
            if chain.hook
            else chain_manager(chain.family, chain.table, chain.name)
        )
        rows.append(
            FirewallRow(
                backend=backend,
                family=chain.family,
                table=chain.table,
                chain=chain.name,
                hook=chain.hook,
                policy=chain.policy,
                priority=chain.priority,
                rule="",
                verdict=chain.policy,
                handle=chain.handle,
                packets=chain_counts[0],
                bytes=chain_counts[1],
                manager=manager,
                position=len(rule_rows),
            )
        )
        rows.extend(rule_rows)
    return rows
