"""A firewall rule as argv words, for the fixes that delete or re-add it."""

from __future__ import annotations

import shlex

from .firewall_backends import NFTABLES


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
