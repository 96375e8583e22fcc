"""nftables output parsed: ``nft -j list ruleset`` (JSON: tables, chains, rules with
handles and counters) and ``nft -a list ruleset`` (the rule text operators know, keyed
by handle). Pure functions, no I/O."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .firewall_backends import SAVE_TARGETS

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
                priority=int_or_none(c.get("prio")),
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


def int_or_none(value: Any) -> int | None:
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
                verdict = SAVE_TARGETS.get(str(value.get("name", "")), verdict)
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


def nft_rule_text_fallback(rule: Mapping[str, Any]) -> str:
    """Without ``nft -a`` text, the rule's expressions as compact JSON are still evidence."""
    return json.dumps(rule.get("expr", []), separators=(",", ":"), sort_keys=True)
