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

import json
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .rows import FirewallRow

NFTABLES = "nftables"
IPTABLES_NFT = "iptables-nft"
IPTABLES_LEGACY = "iptables-legacy"
EBTABLES = "ebtables"

# nft tables iptables-nft / ebtables-nft create, by family.
COMPAT_TABLES = {
    "ip": frozenset({"filter", "nat", "mangle", "raw", "security"}),
    "ip6": frozenset({"filter", "nat", "mangle", "raw", "security"}),
    "bridge": frozenset({"filter", "nat", "broute"}),
}
COMPAT_BACKEND = {"ip": IPTABLES_NFT, "ip6": IPTABLES_NFT, "bridge": EBTABLES}

_BUILTIN_HOOKS = {
    "PREROUTING": "prerouting",
    "INPUT": "input",
    "FORWARD": "forward",
    "OUTPUT": "output",
    "POSTROUTING": "postrouting",
}
# NF_IP_PRI_* (linux/netfilter_ipv4.h): the priorities legacy tables hook at.
_LEGACY_PRIORITY: dict[str, dict[str | None, int]] = {
    "raw": {None: -300},
    "mangle": {None: -150},
    "nat": {"PREROUTING": -100, "OUTPUT": -100, "INPUT": 100, "POSTROUTING": 100},
    "filter": {None: 0},
    "security": {None: 50},
}
_SAVE_TARGETS = {
    "ACCEPT": "accept",
    "DROP": "drop",
    "REJECT": "reject",
    "RETURN": "return",
    "MASQUERADE": "masquerade",
    "SNAT": "snat",
    "DNAT": "dnat",
    "REDIRECT": "dnat",  # DNAT to the host itself
}
_NFT_VERDICTS = {
    "accept": "accept",
    "drop": "drop",
    "reject": "reject",
    "return": "return",
    "masquerade": "masquerade",
    "snat": "snat",
    "dnat": "dnat",
    "redirect": "dnat",
}
_COUNTER_TEXT = re.compile(r"\bcounter packets \d+ bytes \d+")
_HANDLE_TEXT = re.compile(r"\s*# handle (\d+)\s*$")
_FIREWALLD_IPT_CHAIN = re.compile(
    r"^((INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING)_(direct|ZONES|ZONES_SOURCE|POLICIES\w*)"
    r"|(IN|FWDI|FWDO|FWD|PRE|POST)_\w+)$"
)


# ---------------------------------------------------------------- managers


def chain_manager(family: str, table: str, chain: str) -> str:
    """Who owns a table/chain by naming convention ("" when nobody we know)."""
    if table == "libvirt_network" or chain.startswith("LIBVIRT_"):
        return "libvirt"
    if table == "firewalld" or _FIREWALLD_IPT_CHAIN.match(chain):
        return "firewalld"
    if chain.startswith("DOCKER"):
        return "docker"
    if chain.startswith(("ufw-", "ufw6-")):
        return "ufw"
    return ""


def _target_chain(verdict: str) -> str:
    for prefix in ("jump ", "goto "):
        if verdict.startswith(prefix):
            return verdict[len(prefix) :]
    return ""


def rule_manager(family: str, table: str, chain: str, verdict: str) -> str:
    """A rule belongs to its chain's owner, or to the owner of the chain it jumps to."""
    owner = chain_manager(family, table, chain)
    if owner:
        return owner
    target = _target_chain(verdict)
    return chain_manager(family, table, target) if target else ""


def policy_manager(
    family: str, table: str, chain: str, policy: str, rule_managers: Iterable[str]
) -> str:
    """Who set a base chain's policy.

    Nobody records that, so it is inferred: the chain's owner if it has one;
    else Docker when the policy is drop and Docker has rules in the chain (Docker
    sets FORWARD to DROP when it enables forwarding); else the only manager with
    rules in the chain.
    """
    owner = chain_manager(family, table, chain)
    if owner:
        return owner
    present = {m for m in rule_managers if m}
    if policy == "drop" and "docker" in present:
        return "docker"
    return next(iter(present)) if len(present) == 1 else ""


# ---------------------------------------------------------------- nftables


@dataclass
class NftChain:
    family: str
    table: str
    name: str
    handle: int | None = None
    hook: str = ""
    priority: int | None = None
    policy: str = ""
    rules: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class NftRuleset:
    tables: list[tuple[str, str]] = field(default_factory=list)
    chains: dict[tuple[str, str, str], NftChain] = field(default_factory=dict)

    def chains_of(self, family: str, table: str) -> list[NftChain]:
        return [c for (f, t, _n), c in self.chains.items() if f == family and t == table]


def parse_nft_json(text: str) -> NftRuleset:
    """``nft -j list ruleset`` -> tables, chains (in listing order) and their rules."""
    text = text.strip()
    ruleset = NftRuleset()
    if not text:
        return ruleset
    data = json.loads(text)
    for item in data.get("nftables", ()):
        if "table" in item:
            t = item["table"]
            ruleset.tables.append((t["family"], t["name"]))
        elif "chain" in item:
            c = item["chain"]
            key = (c["family"], c["table"], c["name"])
            ruleset.chains[key] = NftChain(
                family=c["family"],
                table=c["table"],
                name=c["name"],
                handle=c.get("handle"),
                hook=str(c.get("hook", "")),
                priority=_int_or_none(c.get("prio")),
                policy=str(c.get("policy", "")) if "hook" in c else "",
            )
        elif "rule" in item:
            r = item["rule"]
            key = (r["family"], r["table"], r["chain"])
            chain = ruleset.chains.get(key)
            if chain is None:  # listed before its chain: should not happen, but keep the rule
                chain = ruleset.chains[key] = NftChain(r["family"], r["table"], r["chain"])
            chain.rules.append(r)
    return ruleset


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def nft_verdict(exprs: Iterable[Mapping[str, Any]]) -> str:
    """The normalised verdict of an nft rule (its last verdict-like statement)."""
    verdict = ""
    for expr in exprs:
        if not isinstance(expr, Mapping):
            continue
        for key, value in expr.items():
            if key in _NFT_VERDICTS:
                verdict = _NFT_VERDICTS[key]
            elif key in ("jump", "goto") and isinstance(value, Mapping):
                verdict = f"{key} {value.get('target', '')}"
            elif key == "xt" and isinstance(value, Mapping) and value.get("type") == "target":
                verdict = _SAVE_TARGETS.get(str(value.get("name", "")), verdict)
    return verdict


def nft_counters(exprs: Iterable[Mapping[str, Any]]) -> tuple[int | None, int | None]:
    for expr in exprs:
        if isinstance(expr, Mapping):
            counter = expr.get("counter")
            if isinstance(counter, Mapping) and "packets" in counter:
                return int(counter["packets"]), int(counter.get("bytes", 0))
    return None, None


def parse_nft_text(text: str) -> dict[tuple[str, str, str, int], str]:
    """``nft -a list ruleset`` -> {(family, table, chain, handle): readable rule}.

    Counters are reduced to the word ``counter`` so the text stays the same
    between two runs; the numbers are in the row's own columns.
    """
    out: dict[tuple[str, str, str, int], str] = {}
    family = table = chain = ""
    depth = 0
    block_depth = -1  # depth of the chain block we are in
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line:
            continue
        opens, closes = _brace_balance(line)
        if depth == 0 and line.startswith("table "):
            parts = line.split()
            if len(parts) >= 3:
                family, table = parts[1], _unquote(parts[2])
        elif depth == 1 and line.startswith("chain "):
            chain = _unquote(line.split()[1])
            block_depth = depth + 1
        elif chain and depth == block_depth:
            match = _HANDLE_TEXT.search(line)
            if match and not line.startswith(("type ", "policy ")):
                rule = _COUNTER_TEXT.sub("counter", line[: match.start()]).strip()
                out[(family, table, chain, int(match.group(1)))] = rule
        depth += opens - closes
        if chain and depth < block_depth:
            chain = ""
            block_depth = -1
        if depth == 0:
            family = table = ""
    return out


def _unquote(name: str) -> str:
    return name[1:-1] if len(name) >= 2 and name[0] == name[-1] == '"' else name


def _brace_balance(line: str) -> tuple[int, int]:
    """Braces outside double-quoted strings (comments may hold braces)."""
    opens = closes = 0
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted:
            if ch == "{":
                opens += 1
            elif ch == "}":
                closes += 1
    return opens, closes


def _nft_rule_text_fallback(rule: Mapping[str, Any]) -> str:
    """Without ``nft -a`` text, the rule's expressions as compact JSON are still evidence."""
    return json.dumps(rule.get("expr", []), separators=(",", ":"), sort_keys=True)


# ---------------------------------------------------------------- iptables-save format


@dataclass
class SaveRule:
    chain: str
    text: str  # the rule without "-A CHAIN" and counters
    verdict: str
    packets: int | None
    bytes: int | None


@dataclass
class SaveChain:
    name: str
    policy: str  # "accept"/"drop" for built-in chains, "" for user chains
    packets: int | None = None
    bytes: int | None = None


@dataclass
class SaveTable:
    name: str
    chains: list[SaveChain] = field(default_factory=list)
    rules: list[SaveRule] = field(default_factory=list)

    def chain_names(self) -> set[str]:
        return {c.name for c in self.chains}

    def rules_of(self, chain: str) -> list[SaveRule]:
        return [r for r in self.rules if r.chain == chain]


_COUNTS = re.compile(r"^\[(\d+):(\d+)\]\s*")


def parse_save(text: str) -> dict[str, SaveTable]:
    """``iptables-save -c`` / ``ip6tables-save -c`` / ``ebtables-save -c`` -> tables."""
    tables: dict[str, SaveTable] = {}
    current: SaveTable | None = None
    pending: list[tuple[str, str, int | None, int | None]] = []
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("*"):
            current = tables.setdefault(line[1:].strip(), SaveTable(line[1:].strip()))
            pending = []
            continue
        if current is None:
            continue
        if line == "COMMIT":
            _finish_rules(current, pending)
            pending = []
            current = None
            continue
        if line.startswith(":"):
            parts = line[1:].split()
            name = parts[0]
            policy = parts[1] if len(parts) > 1 else "-"
            packets = bytes_ = None
            if len(parts) > 2:
                match = _COUNTS.match(parts[2])
                if match:
                    packets, bytes_ = int(match.group(1)), int(match.group(2))
            current.chains.append(
                SaveChain(
                    name,
                    "" if policy == "-" else _SAVE_TARGETS.get(policy, policy.lower()),
                    packets,
                    bytes_,
                )
            )
            continue
        packets = bytes_ = None
        match = _COUNTS.match(line)
        if match:
            packets, bytes_ = int(match.group(1)), int(match.group(2))
            line = line[match.end() :]
        # iptables-legacy-save puts "-c P B" inside the rule on some versions
        line, inline = _strip_inline_counters(line)
        if inline is not None:
            packets, bytes_ = inline
        if line.startswith("-A "):
            chain, _, rest = line[3:].partition(" ")
            pending.append((chain, rest.strip(), packets, bytes_))
    if current is not None:  # ebtables-save prints no COMMIT
        _finish_rules(current, pending)
    return tables


def _strip_inline_counters(line: str) -> tuple[str, tuple[int, int] | None]:
    match = re.search(r"\s-c (\d+) (\d+)(?=\s|$)", line)
    if not match:
        return line, None
    return (line[: match.start()] + line[match.end() :]).strip(), (
        int(match.group(1)),
        int(match.group(2)),
    )


def _finish_rules(table: SaveTable, pending: list[tuple[str, str, int | None, int | None]]) -> None:
    chains = table.chain_names()
    for chain, text, packets, bytes_ in pending:
        table.rules.append(SaveRule(chain, text, save_verdict(text, chains), packets, bytes_))


def save_verdict(rule: str, user_chains: Iterable[str] = ()) -> str:
    """The normalised verdict of one iptables/ebtables rule (``-j``/``-g``)."""
    try:
        words = shlex.split(rule)
    except ValueError:
        words = rule.split()
    verdict = ""
    chains = set(user_chains)
    for i, word in enumerate(words[:-1]):
        target = words[i + 1]
        if word in ("-j", "--jump"):
            if target in _SAVE_TARGETS:
                verdict = _SAVE_TARGETS[target]
            elif target in chains and target not in _BUILTIN_HOOKS:
                verdict = f"jump {target}"
            elif target.isupper() or target in ("CONTINUE",):
                verdict = ""  # LOG, MARK, CT, CONTINUE...: not a verdict
            else:
                verdict = f"jump {target}"
        elif word in ("-g", "--goto"):
            verdict = f"goto {target}"
    return verdict


# ---------------------------------------------------------------- a rule as argv words


# Outside double quotes, these would make nft read more than one rule (";", a newline),
# cut it short ("#") or expand something ("$"): a rule text holding one is not re-added.
_NFT_UNSAFE = frozenset(';#$\\\n\r\0')


def rule_words(backend: str, text: str) -> tuple[str, ...] | None:
    """A rule's text as the argv words that re-create it (``nft add rule F T C WORDS``,
    ``iptables -I CHAIN WORDS``), or None when it cannot be split safely.

    The text is split by the rules of the tool that printed it, never by a shell:
    iptables-save and ebtables-save quote like a POSIX shell, so their lines split as
    one would; nft joins its arguments with spaces and parses the result itself, so its
    words keep their double quotes and are cut at spaces outside them. A rule listed
    only as JSON expressions (no ``nft -a`` text) has no words.
    """
    text = text.strip()
    if not text or "\0" in text:
        return None
    if backend == NFTABLES:
        return _nft_words(text)
    try:
        words = tuple(shlex.split(text))
    except ValueError:
        return None
    # iptables' --modprobe names a program it runs: never part of a listed rule.
    if any(w.startswith("--modprobe") or "\n" in w or "\r" in w for w in words):
        return None
    return words or None


def _nft_words(text: str) -> tuple[str, ...] | None:
    if text.startswith(("[", "{")):
        return None  # the JSON fallback, not nft's own syntax
    words: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
            current.append(ch)
        elif quoted:
            if ch in "\n\r\0":
                return None
            current.append(ch)
        elif ch in _NFT_UNSAFE:
            return None
        elif ch in " \t":
            if current:
                words.append("".join(current))
                current = []
        else:
            current.append(ch)
    if quoted:
        return None
    if current:
        words.append("".join(current))
    return tuple(words) or None


# ---------------------------------------------------------------- rows


def legacy_rows(tables: Mapping[str, SaveTable], family: str) -> list[FirewallRow]:
    """Rows for iptables-legacy tables (``family`` ip or ip6)."""
    rows: list[FirewallRow] = []
    for table in tables.values():
        for chain in table.chains:
            rules = table.rules_of(chain.name)
            managers = [rule_manager(family, table.name, r.chain, r.verdict) for r in rules]
            hook = _BUILTIN_HOOKS.get(chain.name, "") if chain.policy else ""
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
            handle = _int_or_none(rule.get("handle"))
            saved = save_rules[position] if position < len(save_rules) else None
            if saved is not None:
                text = saved.text
                verdict = verdict or saved.verdict
                if packets is None:
                    packets, bytes_ = saved.packets, saved.bytes
            else:
                key = (chain.family, chain.table, chain.name, handle if handle is not None else -1)
                text = texts.get(key) or _nft_rule_text_fallback(rule)
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
