"""Finding English prose left in a text meant to be Chinese (tests of --lang zh).

A word counts as prose unless it is an option (``--db``), a metavar or acronym
(``PATH``, ``TCP``), an identifier, path or schema (``host:br0``, ``$XDG_DATA_HOME``,
``vnetdoctor.diagnosis/1``, ``vnd-``), in backticks, or a name the caller allows
(command names, choices, scenario names) or one of :data:`NAMES`.
"""

from __future__ import annotations

import re

CJK = re.compile(r"[\u4e00-\u9fff]")
# Words that are names, not English prose: the program, tools, formats, the vantage kinds.
NAMES = {
    "vnetdoctor", "libvirt", "nftables", "iproute2", "ping", "local", "stdout", "stderr", "sudo",
    "md", "json", "pcap", "pcapng", "root", "TUI", "JSON", "TCP", "IP", "MAC", "URI", "LANG",
}
# A name with a mark in it is an identifier, a path or a schema (host:br0, $XDG_DATA_HOME,
# vnetdoctor.diagnosis/1, TERM=linux, vnd-), never prose.
IDENTIFIER = re.compile(r"[.:/@$=_\[\]{}0-9]|-$")
WORD = re.compile(r"-{0,2}[A-Za-z$][A-Za-z0-9_.:/@$=+\[\]{}-]*")


def english_left(text: str, allowed: set[str]) -> list[str]:
    """The words of ``text`` that are English prose: not in backticks, not an option,
    a metavar, an identifier or a name."""
    text = re.sub(r"`[^`]*`", " ", text)
    left = []
    for word in WORD.findall(text):
        if word.startswith("-") or IDENTIFIER.search(word) or word.isupper():
            continue
        if word in allowed or word in NAMES:
            continue
        left.append(word)
    return left
