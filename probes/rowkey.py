"""Row identity, declared once by each row type and used by the tables and the diff alike.

A row's key says which thing it is about (a link, an address, a firewall rule),
not what state that thing is in. Two readers depend on it: the Tables screen
updates a row in place on every refresh when its key is unchanged, and
``vnetdoctor diff`` pairs the rows of two sessions (before and after a fix) by
key, so that a change reads as "link vnet0: operstate DOWN → UP" instead of a
removed and an added line. Hence a key must be stable across a refresh and
across two sessions: it never holds a counter, a kernel handle, an ifindex, a
position, an age or a state (:data:`NEVER_IDENTITY`).

Each row class subclasses :class:`Row` and declares ``KEY_FIELDS``; its class
docstring says why those fields. A class whose key needs a field normalised
(a firewall rule's text without its counters) overrides :meth:`Row.key_part`.
Two rows with the same key in one list (the same rule twice in one chain) stay
apart by their occurrence number: see :func:`numbered`.

This module is ground floor: no import from the rest of the project.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Hashable, Iterable, Iterator, Mapping
from typing import Any, ClassVar, TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")

# Fields that differ between any two looks at the same thing — counters, kernel
# numbering (handles, ifindexes), probe idents: never an identity, and `diff` never
# reports them as a change either.
RUN_TO_RUN = frozenset(
    {
        "rx_packets",
        "tx_packets",
        "rx_errors",
        "tx_errors",
        "rx_dropped",
        "tx_dropped",
        "rx_bytes",
        "tx_bytes",
        "packets",
        "bytes",
        "handle",
        "position",
        "ifindex",
        "peer_ifindex",
        "peer_netnsid",
        "count",
        "ident",
    }
)
# Fields that change while the thing they describe stays the same: never part of a key.
# (A state or an RTT is worth reporting in a diff, but it does not say which thing it is.)
NEVER_IDENTITY = RUN_TO_RUN | frozenset(
    {
        "rtt_ms",
        "expiry",
        "state",
        "operstate",
        "carrier",
        "admin_up",
        "oper_up",
        "ageing_time_s",
        "id",
    }
)

# Every Row subclass by class name: recorded rows carry the name, not the class.
ROW_CLASSES: dict[str, type[Row]] = {}


class Row:
    """Base of every row type: the identity declaration and nothing else.

    ``KEY_FIELDS`` names the fields that identify the thing a row is about; it is
    checked when the class is defined (declared, known fields, none that change
    while the thing stays the same).
    """

    KEY_FIELDS: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        names: set[str] = set()
        for klass in cls.__mro__:
            names.update(getattr(klass, "__annotations__", {}))
        names.discard("KEY_FIELDS")
        if not cls.KEY_FIELDS:
            raise TypeError(f"{cls.__name__} declares no KEY_FIELDS")
        unknown = [f for f in cls.KEY_FIELDS if f not in names]
        if unknown:
            raise TypeError(f"{cls.__name__}.KEY_FIELDS names unknown fields {unknown}")
        changing = [f for f in cls.KEY_FIELDS if f in NEVER_IDENTITY]
        if changing:
            raise TypeError(
                f"{cls.__name__}.KEY_FIELDS holds fields that change over time {changing}"
            )
        ROW_CLASSES[cls.__name__] = cls

    @classmethod
    def key_part(cls, name: str, value: Any) -> Hashable:
        """One key field's value as it goes into the key (override to normalise)."""
        return hashable(value)


def hashable(value: Any) -> Hashable:
    """Lists (rows loaded from JSON) and dicts as tuples, so that they can be part of a key."""
    if isinstance(value, (list, tuple)):
        return tuple(hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), hashable(v)) for k, v in value.items()))
    return value


_NFT_COUNTER = re.compile(r"\bcounter packets \d+ bytes \d+")
_JSON_COUNTER = re.compile(r'"counter":\{[^{}]*\}')
_SAVE_INLINE_COUNTER = re.compile(r"(?:^|\s)-c \d+ \d+(?=\s|$)")
_SAVE_PREFIX_COUNTER = re.compile(r"^\[\d+:\d+\]\s*")


def strip_counters(text: str) -> str:
    """A firewall rule's text without packet/byte counts, in every form a probe may give it.

    ``nft`` text (``counter packets 3 bytes 252`` → ``counter``), the JSON
    expressions shown when ``nft -a`` text is missing (``"counter":{…}`` →
    ``"counter":{}``), and ``iptables-save -c`` forms (``[3:252]`` prefix,
    ``-c 3 252``). Whitespace is collapsed.
    """
    text = _NFT_COUNTER.sub("counter", text)
    text = _JSON_COUNTER.sub('"counter":{}', text)
    text = _SAVE_PREFIX_COUNTER.sub("", text.strip())
    text = _SAVE_INLINE_COUNTER.sub("", text)
    return " ".join(text.split())


def _values(item: Any, kind: str | None) -> tuple[str, dict[str, Any]] | None:
    if dataclasses.is_dataclass(item) and not isinstance(item, type):
        fields = dataclasses.fields(item)
        return type(item).__name__, {f.name: getattr(item, f.name) for f in fields}
    if isinstance(item, Mapping):
        data = {str(k): v for k, v in item.items()}
        recorded = str(data.pop("_type", "") or "")
        return (kind or recorded or "row"), data
    return None


def row_key(item: Any, kind: str | None = None) -> tuple[Hashable, ...]:
    """``(type name, *identity)`` of a row object, or of a field mapping of type ``kind``.

    A mapping may name its type itself (``_type``, as rows are recorded). A row
    of a type nobody declared (a recorded type this version no longer has) is
    identified by all its fields except those in :data:`NEVER_IDENTITY`.
    """
    found = _values(item, kind)
    if found is None:
        return (type(item).__name__, hashable(item))
    name, values = found
    cls = ROW_CLASSES.get(name)
    if cls is None or any(f not in values for f in cls.KEY_FIELDS):
        stable = (v for k, v in values.items() if k not in NEVER_IDENTITY and not k.startswith("_"))
        return (name, *(hashable(v) for v in stable))
    return (name, *(cls.key_part(f, values[f]) for f in cls.KEY_FIELDS))


def key_fields(kind: str) -> tuple[str, ...]:
    """The declared key fields of a row type by name (``()`` for a type nobody declared)."""
    cls = ROW_CLASSES.get(kind)
    return cls.KEY_FIELDS if cls is not None else ()


def numbered(keys: Iterable[K]) -> Iterator[tuple[K, int]]:
    """Each key with its occurrence number: 1 for the first, 2 for the same key again, …

    The same firewall rule twice in one chain is two rules; numbering repeats in
    list order keeps them two rows, and keeps the pairing stable as long as the
    order is (a chain's order is the kernel's evaluation order).
    """
    seen: Counter[K] = Counter()
    for key in keys:
        seen[key] += 1
        yield key, seen[key]


def index_rows(items: Iterable[T]) -> dict[tuple[Hashable, ...], T]:
    """Rows by key; a repeated key gets its occurrence number appended (``(*key, 2)``)."""
    rows = list(items)
    out: dict[tuple[Hashable, ...], T] = {}
    for (key, n), item in zip(numbered(row_key(r) for r in rows), rows):
        out[key if n == 1 else (*key, n)] = item
    return out
