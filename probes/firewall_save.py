"""The ``iptables-save -c`` format parsed (iptables-legacy, iptables-nft and
ebtables-nft all print it): tables, chains with policies and counters, rules and their
verdicts. Pure functions, no I/O."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field

from .firewall_backends import BUILTIN_HOOKS, SAVE_TARGETS


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
                    "" if policy == "-" else SAVE_TARGETS.get(policy, policy.lower()),
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
            if target in SAVE_TARGETS:
                verdict = SAVE_TARGETS[target]
            elif target in chains and target not in BUILTIN_HOOKS:
                verdict = f"jump {target}"
            elif target.isupper() or target in ("CONTINUE",):
                verdict = ""  # LOG, MARK, CT, CONTINUE...: not a verdict
            else:
                verdict = f"jump {target}"
        elif word in ("-g", "--goto"):
            verdict = f"goto {target}"
    return verdict
