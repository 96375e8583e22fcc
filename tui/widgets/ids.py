"""Widget ids made from arbitrary keys (probe ids, vantages, cause ids).

Textual ids allow letters, digits, ``-`` and ``_`` only; a probe key such as
``firewall.rules@netns:vnd-guest`` is not one. The checksum keeps two keys that
differ only in punctuation apart, and is stable across runs (``hash()`` is not).
"""

from __future__ import annotations

import zlib


def css_id(key: str, prefix: str = "k") -> str:
    safe = "".join(c if c.isascii() and c.isalnum() else "_" for c in key)
    return f"{prefix}{safe}_{zlib.crc32(key.encode()):08x}"
