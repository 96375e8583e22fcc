"""``firewall.rules``: every chain and rule of every firewall backend in the vantage.

Commands run in the vantage (:func:`~.nsexec.run_command` forks from a thread
inside its namespace, or goes through the guest agent), so they show that
namespace's rules:

- ``nft -j list ruleset``: native nftables, and the tables iptables-nft and
  ebtables-nft keep in nftables; ``nft -a list ruleset`` for readable rules.
- ``iptables-nft-save -c`` / ``ip6tables-nft-save -c`` / ``ebtables-nft-save -c``,
  only when nft lists tables those tools may own: their text is what an
  operator recognises and can paste back.
- ``iptables-legacy-save -c`` / ``ip6tables-legacy-save -c``: legacy tables
  never show in nft. On this host they are read only when
  ``/proc/thread-self/net/ip_tables_names`` says the namespace has any.

A missing tool is not an error: the other backends still give rows and the
raw evidence says what could not be read. The probe skips only when no backend
could be read at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .base import ProbeOutput, Skip, probe
from .guest_windows import windows_output
from .caps import NEED_NET_ADMIN
from .firewall_parse import (
    COMPAT_TABLES,
    compat_tables,
    legacy_rows,
    nft_rows,
    parse_nft_json,
    parse_nft_text,
    parse_save,
)
from .iproute_json import clip
from .nsexec import CommandResult, call_in, run_command
from .rows import FirewallRow
from .vantage import Vantage

NFT_JSON = ("nft", "-j", "list", "ruleset")
NFT_TEXT = ("nft", "-a", "list", "ruleset")
COMPAT_SAVE = {
    "ip": ("iptables-nft-save", "-c"),
    "ip6": ("ip6tables-nft-save", "-c"),
    "bridge": ("ebtables-nft-save", "-c"),
}
LEGACY_SAVE = {
    "ip": (("iptables-legacy-save", "-c"), "/proc/thread-self/net/ip_tables_names"),
    "ip6": (("ip6tables-legacy-save", "-c"), "/proc/thread-self/net/ip6_tables_names"),
}
_NFT_RAW_LIMIT = 48 * 1024
_OTHER_RAW_LIMIT = 8 * 1024


@dataclass
class _Collected:
    """What each backend gave, for the rows and for the raw evidence."""

    rows: list[FirewallRow] = field(default_factory=list)
    evidence: list[tuple[str, str]] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    read: int = 0  # backends that answered (even with nothing)

    def outcome(self, argv: Sequence[str], result: CommandResult) -> bool:
        """Note one command's fate; True when its stdout can be used."""
        if result.returncode == 127:
            self.unavailable.append(f"{argv[0]}: not installed")
            return False
        if not result.ok:
            lines = result.stderr.strip().splitlines()
            self.failures.append(
                f"{' '.join(argv)}: {lines[-1] if lines else f'exit {result.returncode}'}"
            )
            return False
        return True


def _legacy_tables_present(vantage: Vantage, names_path: str) -> bool:
    """Whether the namespace has legacy tables; a guest is simply asked with the save tool."""
    if vantage.kind == "libvirt":
        return True

    def read() -> str:
        try:
            with open(names_path, encoding="ascii") as fh:
                return fh.read()
        except OSError:
            return ""

    return bool(call_in(vantage, read).strip())


def collect(vantage: Vantage) -> _Collected:
    out = _Collected()
    nft = run_command(vantage, NFT_JSON, timeout=10.0)
    if out.outcome(NFT_JSON, nft):
        out.read += 1
        out.evidence.append((" ".join(NFT_JSON), clip(nft.stdout, _NFT_RAW_LIMIT)))
        ruleset = parse_nft_json(nft.stdout)
        saved = {}
        for family, argv in COMPAT_SAVE.items():
            if any(f == family and t in COMPAT_TABLES[family] for f, t in ruleset.tables):
                result = run_command(vantage, argv, timeout=10.0)
                if out.outcome(argv, result):
                    saved[family] = parse_save(result.stdout)
                    out.evidence.append((" ".join(argv), clip(result.stdout, _OTHER_RAW_LIMIT)))
        compat = compat_tables(ruleset, saved)
        texts = {}
        if any(
            chain.rules and (chain.family, chain.table) not in compat
            for chain in ruleset.chains.values()
        ):
            text = run_command(vantage, NFT_TEXT, timeout=10.0)
            if out.outcome(NFT_TEXT, text):
                texts = parse_nft_text(text.stdout)
        out.rows += nft_rows(ruleset, texts, compat)
    for family, (argv, names_path) in LEGACY_SAVE.items():
        if not _legacy_tables_present(vantage, names_path):
            out.read += 1  # the kernel says there is nothing to read
            continue
        result = run_command(vantage, argv, timeout=10.0)
        if out.outcome(argv, result):
            out.read += 1
            if result.stdout.strip():
                out.evidence.append((" ".join(argv), clip(result.stdout, _OTHER_RAW_LIMIT)))
            out.rows += legacy_rows(parse_save(result.stdout), family)
    return out


def _raw(collected: _Collected) -> str:
    parts = [f"## {title}\n{text.rstrip()}" for title, text in collected.evidence]
    if collected.unavailable:
        parts.append("## unavailable\n" + "\n".join(collected.unavailable))
    if collected.failures:
        parts.append("## failed\n" + "\n".join(collected.failures))
    return "\n\n".join(parts)


@probe(
    "firewall.rules",
    layer="network",
    title="Firewall chains and rules (nftables, iptables-nft, iptables-legacy, bridge family)",
    needs=(NEED_NET_ADMIN,),
    vantages=("local", "netns", "libvirt"),
)
def firewall_rules(vantage: Vantage) -> ProbeOutput:
    if (windows := windows_output("firewall.rules", vantage)) is not None:
        return windows
    collected = collect(vantage)
    nft_read = any(title == " ".join(NFT_JSON) for title, _ in collected.evidence)
    if not nft_read and not collected.rows:
        reasons = collected.failures + collected.unavailable
        if collected.failures:
            raise RuntimeError("; ".join(reasons))
        raise Skip("no firewall tool could be read: " + "; ".join(reasons))
    return ProbeOutput(rows=tuple(collected.rows), raw=_raw(collected))
