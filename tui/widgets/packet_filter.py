"""The display filter of recorded packets: which of them the list shows.

A recording cannot be captured again with another BPF filter, so ``/`` on recorded
packets filters what is listed instead, Wireshark's display filter in a few words:
``iface:vnet0 side:guest proto:icmp addr:198.18.0.11 probe:icmp:4242``, or a bare
word matched anywhere in the line. All terms must match. A field the filter does not
know is an error naming the ones it does, never a filter that silently matches
nothing. The path view keeps every packet: it is the record of what crossed where.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from vnetdoctor.probes.rows import PacketRow

from .packet_list import endpoint

FIELDS = ("iface", "side", "proto", "addr", "probe")


class FilterSyntaxError(ValueError):
    """A term names a field the display filter does not know."""


@dataclass(frozen=True)
class DisplayFilter:
    text: str
    terms: tuple[tuple[str, str], ...]  # (field or "", value), lower case

    def matches(self, row: PacketRow, side_of: Mapping[str, str],
                side_words: Mapping[str, str] | None = None) -> bool:
        """``side_of``: vantage → side as shown (any language); ``side_words``: → "host"/"guest"."""
        return all(_match(field, value, row, side_of, side_words or {}) for field, value in self.terms)


def parse_display_filter(text: str) -> DisplayFilter | None:
    """The filter ``text`` says, or None for an empty one; :class:`FilterSyntaxError` if unknown."""
    terms = []
    for word in text.split():
        field, sep, value = word.partition(":")
        if not sep or field.lower() not in FIELDS:
            if sep and field.isalpha():
                raise FilterSyntaxError(field)
            field, value = "", word
        terms.append((field.lower(), value.lower()))
    return DisplayFilter(text.strip(), tuple(terms)) if terms else None


def _match(field: str, value: str, row: PacketRow, side_of: Mapping[str, str],
           side_words: Mapping[str, str]) -> bool:
    if field == "iface":
        return row.iface.lower() == value
    if field == "side":
        return value in (side_of.get(row.vantage, "").lower(), side_words.get(row.vantage, ""), row.vantage.lower())
    if field == "proto":
        return row.proto.lower() == value
    if field == "addr":
        return value in (row.src, row.dst, endpoint(row.src, row.sport), endpoint(row.dst, row.dport))
    if field == "probe":
        return row.tag.lower() == value or row.tag.lower().startswith(value + ":")
    line = " ".join((row.iface, row.vantage, side_of.get(row.vantage, ""), row.summary, row.tag)).lower()
    return value in line
