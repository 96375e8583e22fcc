"""Every row type an observation can carry, listed once, and the codec between rows and JSON.

A recorded row carries its type's name (``_type``); loading it back needs the
class. The classes are listed here by import — not found by scanning module
names — so a process that only reads the store (export, diff) resolves every
recorded row, and a new row type that is not listed fails the registry test
(tests/unit/test_row_types.py) instead of silently loading as a dict.

Each type declares its kind (its class name, what ``_type`` holds) and its key
(``KEY_FIELDS``, see :mod:`.rowkey`). Decoding follows the field annotations,
so a ``tuple[str, ...]`` field comes back as a tuple and a nested frozen
dataclass comes back as that dataclass, never as a list or a dict.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

from .kernel_drops_parse import KernelDropRow
from .nft_trace import NftTraceRow
from .rowkey import Row
from .rows import (
    AddrRow,
    BridgePortRow,
    BridgeRow,
    BridgeVlanRow,
    FdbRow,
    FirewallRow,
    LinkRow,
    NeighRow,
    PacketRow,
    RouteLookupRow,
    RouteRow,
    SysctlRow,
)
from .rows_active import ArpReplyRow, CaptureFailure, DnsRow, EchoRow, ListenRow, TcpRow
from .rows_libvirt import (
    DnsmasqRow,
    DomainIfaceRow,
    DomainRow,
    GuestLinkRow,
    IfStatRow,
    LeaseRow,
    NetworkRow,
    PathRow,
)
from .rows_platform import PlatformSignRow, VmnetConfigRow

ROW_TYPES: tuple[type[Row], ...] = (
    LinkRow, AddrRow, RouteRow, RouteLookupRow, NeighRow, BridgeRow, BridgePortRow, FdbRow,
    BridgeVlanRow, SysctlRow, FirewallRow, PacketRow,
    EchoRow, ArpReplyRow, TcpRow, DnsRow, ListenRow, CaptureFailure,
    DomainRow, DomainIfaceRow, NetworkRow, DnsmasqRow, LeaseRow, IfStatRow, PathRow, GuestLinkRow,
    PlatformSignRow, VmnetConfigRow,
    KernelDropRow, NftTraceRow,
)

BY_KIND: dict[str, type[Row]] = {cls.__name__: cls for cls in ROW_TYPES}


def kind_of(cls: type) -> str:
    """The name a recorded row carries for its type (``_type``)."""
    return cls.__name__


# --- the codec ----------------------------------------------------------------------------

_Decode = Callable[[Any], Any]
_DECODERS: dict[type, dict[str, _Decode]] = {}
_FLAT: dict[type, frozenset[str]] = {}  # types whose fields all load as they are: their names


def _same(value: Any) -> Any:
    return value


def _decoder(hint: Any) -> _Decode:
    """How one field's JSON value becomes the annotated type (lists → tuples, dicts → dataclasses)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(inner) == 1:
            one = _decoder(inner[0])
            return lambda v: None if v is None else one(v)
        return _same
    if origin is tuple:
        args = typing.get_args(hint)
        item = _decoder(args[0]) if args else _same
        return lambda v: tuple(item(x) for x in v) if isinstance(v, (list, tuple)) else v
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return lambda v: from_json(hint, v) if isinstance(v, Mapping) else v
    if origin in (dict, Mapping) or hint in (dict, Mapping):
        return lambda v: dict(v) if isinstance(v, Mapping) else v
    return _same


def _decoders(cls: type) -> dict[str, _Decode]:
    found = _DECODERS.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls)
        found = _DECODERS[cls] = {f.name: _decoder(hints[f.name]) for f in dataclasses.fields(cls)}
    return found


def from_json(cls: type, data: Mapping[str, Any]) -> Any:
    """A dataclass of ``cls`` from its JSON form; unknown fields (a newer recorder's) are left out.

    Most row types are flat (strings and numbers): those skip the per-field decoders,
    which matters for a 100k-frame record.
    """
    flat = _FLAT.get(cls)
    if flat is not None:
        return cls(**{k: v for k, v in data.items() if k in flat})
    decoders = _decoders(cls)
    if all(d is _same for d in decoders.values()):
        _FLAT[cls] = frozenset(decoders)
    return cls(**{k: decoders[k](v) for k, v in data.items() if k in decoders})


def row_from_json(data: Any) -> Any:
    """A recorded row as its type (``_type`` names it); a type this version lacks stays a dict.

    A row that is already an object (a frame the store rebuilt from its table) is kept.
    """
    if not isinstance(data, Mapping):
        return data
    cls = BY_KIND.get(str(data.get("_type", "")))
    if cls is None:
        out = dict(data)
        out.pop("_type", None)
        return out
    return from_json(cls, data)
