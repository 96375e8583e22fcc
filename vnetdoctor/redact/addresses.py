"""Addresses as an export spells them: the patterns that find IPv4, IPv6 and MAC addresses
in text (full-width digits included), and the EUI-64 link between a MAC and an IPv6
interface id. The rules of what is renamed, and how, are in :mod:`vnetdoctor.redact`.
"""

from __future__ import annotations

import re
import unicodedata

_MAC_RE = (
    r"(?<![0-9A-Za-z:])(?P<mac>[0-9A-Fa-f]{2}(?P<sep>[:-])[0-9A-Fa-f]{2}(?:(?P=sep)[0-9A-Fa-f]{2}){4})"
    r"(?![0-9A-Za-z:])"
)
V6_RE = (
    r"(?<![0-9A-Za-z:.])(?P<v6>(?=[0-9A-Fa-f:]*:[0-9A-Fa-f]*:)[0-9A-Fa-f:]{2,}"
    r"(?:\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})?)(?![0-9A-Za-z:]|\.\d)"
)
# Letters may touch an IPv4 address (``host198.18.0.11``, ``v198.18.0.1``): it is renamed
# there too. Octets may be zero-padded (``198.018.000.011``): read as decimal.
_V4_RE = r"(?<![0-9.])(?P<v4>\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})(?![0-9]|\.\d)"
ADDRESS_RE = re.compile(f"{_MAC_RE}|{V6_RE}|{_V4_RE}")
HEXBLOB_RE = re.compile(r"^(?:[0-9A-Fa-f]{2}){8,}$")

def v4_int(text: str) -> int:
    """A dotted IPv4 address as an int; octets may be zero-padded (decimal, as people mean it)."""
    parts = text.split(".")
    if len(parts) != 4 or not all(p.isdigit() and int(p) <= 255 for p in parts):
        raise ValueError(f"not an IPv4 address: {text!r}")
    return int.from_bytes(bytes(int(p) for p in parts), "big")


# Runs of full-width digits, hex letters, dots, colons and dashes (１９８．１８．０．１１):
# spelled back in ASCII before renaming, so that they are renamed like the usual spelling.
_FULLWIDTH_RUN = re.compile("[\uff10-\uff19\uff21-\uff26\uff41-\uff46\uff0e\uff1a\uff0d.:-]+")
_EXTRA_DOTS = str.maketrans({"\u3002": ".", "\uff61": ".", "\u2024": "."})


def ascii_fullwidth(text: str) -> str:
    def norm(m: re.Match[str]) -> str:
        run = m.group(0)
        if not any("\uff10" <= c <= "\uff19" for c in run):
            return run  # a lone full-width colon is Chinese punctuation, not an address
        return unicodedata.normalize("NFKC", run)

    return _FULLWIDTH_RUN.sub(norm, text)


def normalise_for_check(text: str) -> str:
    """What the leak check reads: NFKC (full-width digits and dots become ASCII), odd dots too."""
    return unicodedata.normalize("NFKC", text).translate(_EXTRA_DOTS)


def same_case(original: str, new: str) -> str:
    return new.upper() if original.isupper() else new


def mac_of_eui64(iid: int) -> bytes:
    b = iid.to_bytes(8, "big")
    return bytes([b[0] ^ 0x02, b[1], b[2], b[5], b[6], b[7]])


def eui64_of_mac(mac: bytes) -> int:
    return int.from_bytes(
        bytes([mac[0] ^ 0x02, mac[1], mac[2], 0xFF, 0xFE, mac[3], mac[4], mac[5]]), "big"
    )
