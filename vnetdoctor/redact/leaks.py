"""The final check of an export: every original address and name, in every spelling
(:func:`find_leaks`). An export in which one survived is refused."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping

from .addresses import V6_RE, normalise_for_check
from .names import folds_case, token_re

def _v4_spellings(a: int) -> list[str]:
    """Regexes for one IPv4 address: dotted (zero-padded or not, touching letters), integer."""
    octets = a.to_bytes(4, "big")
    dotted = r"\.".join("0*" + str(o) if o else "0+" for o in octets)
    return [f"(?<![0-9]){dotted}(?![0-9])", f"(?<![0-9]){a}(?![0-9])"]


def _mac_spelling(m: bytes) -> str:
    """One regex for a MAC with colons, dashes, Cisco dots, or no separator (any case)."""
    parts = [f"0?{b:x}" if b < 16 else f"{b:02x}" for b in m]
    body = "[:.-]?".join(parts)
    return f"(?<![0-9a-f]){body}(?![0-9a-f])"


def find_leaks(
    text: str,
    *,
    ipv4: Iterable[int] = (),
    ipv6: Iterable[int] = (),
    macs: Iterable[bytes] = (),
    names: Iterable[str] | Mapping[str, str] = (),
) -> list[str]:
    """Every original value still in ``text``, in any spelling (see the module's docstring).

    Deliberately broader than what :class:`Redactor` renames: a false alarm
    refuses an export (the operator can report it), a miss publishes an address.
    ``names`` given as a mapping name → kind are matched as the renamer matches
    them: only host names fold case (DNS does; libvirt, namespace and interface
    names are case-sensitive, so ``DOMAIN`` is not the word "domain").
    """
    kinds: Mapping[str, str] | None = names if isinstance(names, Mapping) else None
    norm = normalise_for_check(text)
    lower = norm.lower()
    found: list[str] = []
    for a in ipv4:
        for pattern in _v4_spellings(a):
            found += [m.group(0) for m in re.finditer(pattern, norm)]
        packed = a.to_bytes(4, "big")
        for h in (packed.hex(), packed[::-1].hex()):
            found += [m.group(0) for m in re.finditer(f"(?<![0-9a-f]){h}(?![0-9a-f])", lower)]
    wanted6 = set(ipv6)
    if wanted6:
        for m in re.finditer(V6_RE, norm):
            try:
                if int(ipaddress.IPv6Address(m.group("v6"))) in wanted6:
                    found.append(m.group(0))
            except ValueError:
                continue
        for a in wanted6:
            h = a.to_bytes(16, "big").hex()
            found += [m.group(0) for m in re.finditer(f"(?<![0-9a-f]){h}(?![0-9a-f])", lower)]
    for m in macs:
        found += [x.group(0) for x in re.finditer(_mac_spelling(m), lower)]
    for name in names:
        # Case-insensitive where a name is long enough not to be a word of the report itself.
        fold = folds_case(kinds[name], name) if kinds is not None else len(name) >= 4
        pattern = token_re([name], ignore_case=fold)
        found += [x.group(0) for x in pattern.finditer(norm)]
    return found
