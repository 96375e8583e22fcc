"""The firewalls one host may run at once, and who most likely wrote a rule.

``manager`` names the tool behind a table or chain from the naming conventions of
libvirt, Docker, firewalld and ufw; that is what lets a diagnosis say "Docker's
FORWARD DROP policy" instead of "some rule". The verdict words of ``iptables`` targets
are here too: nftables' ``xt`` compatibility statements use them as well.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

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

BUILTIN_HOOKS = {
    "PREROUTING": "prerouting",
    "INPUT": "input",
    "FORWARD": "forward",
    "OUTPUT": "output",
    "POSTROUTING": "postrouting",
}
SAVE_TARGETS = {
    "ACCEPT": "accept",
    "DROP": "drop",
    "REJECT": "reject",
    "RETURN": "return",
    "MASQUERADE": "masquerade",
    "SNAT": "snat",
    "DNAT": "dnat",
    "REDIRECT": "dnat",  # DNAT to the host itself
}
_FIREWALLD_IPT_CHAIN = re.compile(
    r"^((INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING)_(direct|ZONES|ZONES_SOURCE|POLICIES\w*)"
    r"|(IN|FWDI|FWDO|FWD|PRE|POST)_\w+)$"
)


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
