"""The probe contract: a stable id, a layer, what it needs, and ``run(vantage)``.

A probe never raises and never prints. Whatever happens, the caller gets an
:class:`Observation`: ``ok`` with rows (frozen dataclasses) and raw evidence,
``skipped`` with the capability it lacks (``needs CAP_NET_RAW``), or ``error``
with what went wrong. That is what lets the engine degrade step by step instead
of failing, and lets the session store replay a run without the system.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, dataclass_transform

from .caps import NEED_SETNS, missing_needs
from .rowkey import Row
from .vantage import Vantage
from .vocabulary import CAUSE_LAYERS

# A probe sits on one of the layers a cause can sit on (vocabulary.py defines them once).
LAYERS = CAUSE_LAYERS

OK = "ok"
SKIPPED = "skipped"
ERROR = "error"

_R = TypeVar("_R", bound=Row)


@dataclass_transform(frozen_default=True)
def row(cls: type[_R]) -> type[_R]:
    """Class decorator: a frozen row type that observations can carry and restore.

    Restoring needs the class by name: list a new row type in :mod:`.row_types`.

    A row type is a :class:`~.rowkey.Row`: it declares its identity (``KEY_FIELDS``),
    which the tables and the session diff both key on. ``dataclass_transform`` tells
    type checkers the class becomes a frozen dataclass, so row constructors are checked.
    """
    if not issubclass(cls, Row):
        raise TypeError(f"{cls.__name__} is not a Row: declare its KEY_FIELDS")
    if not dataclasses.is_dataclass(cls):
        cls = dataclass(frozen=True)(cls)
    return cls


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def row_to_dict(item: Any) -> dict[str, Any]:
    """A row as a JSON-ready dict with its type name (what :func:`row_from_dict` reads back).

    Most rows are flat (strings and numbers): those are copied field by field, which
    is ~10x cheaper than ``dataclasses.asdict``'s deep copy and matters for a
    100k-frame record; a row holding tuples or nested dataclasses takes the deep copy.
    """
    if isinstance(item, dict):  # a recorded row whose type is unknown here stays as it was read
        return dict(item)
    cls = type(item)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(item))
    data: dict[str, Any] = {}
    for name in names:
        value = getattr(item, name)
        if isinstance(value, (tuple, list, dict)) or dataclasses.is_dataclass(value):
            data = dataclasses.asdict(item)
            break
        data[name] = value
    data["_type"] = cls.__name__
    return data


def row_from_dict(data: Mapping[str, Any]) -> Any:
    """Rebuild a row recorded with :func:`row_to_dict` (a type this version lacks stays a dict).

    The registry of row types (:mod:`.row_types`) imports every row module, and they
    import this one: hence the import here.
    """
    global _row_from_json
    if _row_from_json is None:
        from .row_types import row_from_json

        _row_from_json = row_from_json
    return _row_from_json(data)


_row_from_json: Callable[[Mapping[str, Any]], Any] | None = None


@dataclass(frozen=True)
class Observation:
    """What one probe saw from one vantage."""

    probe: str
    vantage: str
    status: str = OK
    rows: tuple[Any, ...] = ()
    raw: str = ""
    reason: str = ""
    duration_ms: float = 0.0
    params: tuple[tuple[str, str], ...] = ()
    layer: str = ""

    @property
    def ok(self) -> bool:
        return self.status == OK

    def param(self, name: str, default: str = "") -> str:
        return dict(self.params).get(name, default)

    def to_dict(self) -> dict[str, Any]:
        return {
            "probe": self.probe,
            "vantage": self.vantage,
            "status": self.status,
            "rows": [row_to_dict(r) for r in self.rows],
            "raw": self.raw,
            "reason": self.reason,
            "duration_ms": round(self.duration_ms, 3),
            "params": dict(self.params),
            "layer": self.layer,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Observation:
        return cls(
            probe=data["probe"],
            vantage=data["vantage"],
            status=data.get("status", OK),
            rows=tuple(row_from_dict(r) for r in data.get("rows", ())),
            raw=data.get("raw", ""),
            reason=data.get("reason", ""),
            duration_ms=float(data.get("duration_ms", 0.0)),
            params=tuple(sorted((str(k), str(v)) for k, v in dict(data.get("params", {})).items())),
            layer=data.get("layer", ""),
        )


class Skip(Exception):
    """Raised inside a probe when it cannot run here; becomes a ``skipped`` observation."""


@dataclass(frozen=True)
class ProbeOutput:
    rows: tuple[Any, ...] = ()
    raw: str = ""


ProbeFn = Callable[..., "ProbeOutput | Iterable[Any]"]


@dataclass(frozen=True)
class ProbeSpec:
    id: str
    layer: str
    title: str
    fn: ProbeFn = field(repr=False)
    needs: frozenset[str] = frozenset()
    vantages: frozenset[str] = frozenset({"local", "netns"})

    def run(self, vantage: Vantage, **params: Any) -> Observation:
        return run_spec(self, vantage, **params)


REGISTRY: dict[str, ProbeSpec] = {}


def probe(
    id: str,
    *,
    layer: str,
    title: str,
    needs: Iterable[str] = (),
    vantages: Iterable[str] = ("local", "netns"),
) -> Callable[[ProbeFn], ProbeFn]:
    """Register ``fn(vantage, **params)`` as a probe; it returns rows or a ProbeOutput."""
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}")

    def deco(fn: ProbeFn) -> ProbeFn:
        if id in REGISTRY:
            raise ValueError(f"probe id {id!r} registered twice")
        REGISTRY[id] = ProbeSpec(id, layer, title, fn, frozenset(needs), frozenset(vantages))
        return fn

    return deco


def _params_tuple(params: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, str(v)) for k, v in params.items() if v is not None))


def run_spec(spec: ProbeSpec, vantage: Vantage, **params: Any) -> Observation:
    """Run a probe and turn every outcome into an Observation."""
    observation = functools.partial(
        Observation, probe=spec.id, vantage=str(vantage), params=_params_tuple(params), layer=spec.layer
    )
    if vantage.kind not in spec.vantages:
        return observation(status=SKIPPED, reason=f"not available on a {vantage.kind} vantage")
    needs = set(spec.needs)
    if vantage.kind == "netns":
        needs.add(NEED_SETNS)
    why = missing_needs(needs)
    if why:
        return observation(status=SKIPPED, reason=why)
    start = time.perf_counter()
    try:
        out = spec.fn(vantage, **params)
    except Skip as exc:
        return observation(status=SKIPPED, reason=str(exc), duration_ms=_ms(start))
    except Exception as exc:  # a probe never raises to its caller
        return observation(
            status=ERROR,
            reason=f"{type(exc).__name__}: {exc}".strip().splitlines()[0],
            duration_ms=_ms(start),
        )
    if not isinstance(out, ProbeOutput):
        out = ProbeOutput(rows=tuple(out))
    return observation(rows=tuple(out.rows), raw=out.raw, duration_ms=_ms(start))


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


def get(probe_id: str) -> ProbeSpec:
    load_all()
    return REGISTRY[probe_id]


def run_probe(probe_id: str, vantage: Vantage, **params: Any) -> Observation:
    return get(probe_id).run(vantage, **params)


_PROBE_MODULES = (
    "links",
    "addresses",
    "routes",
    "neighbours",
    "bridges",
    "sysctls",
    "firewall",
    "icmp",
    "arp",
    "tcp",
    "dns",
    "sockets",
    "libvirt",
    "platforms",
    "kernel_drops",
)


def import_plugins(package: str, names: Iterable[str]) -> None:
    """Import ``package.NAME`` for each name: each registers itself on import. Every
    name is one of the project's own modules, so a missing one is a bug and raises."""
    import importlib

    for name in names:
        importlib.import_module(f"{package}.{name}")


def load_all() -> dict[str, ProbeSpec]:
    """Import every probe module once (cheap ones only: scapy/libvirt load lazily)."""
    import_plugins(__package__ or "vnetdoctor.probes", _PROBE_MODULES)
    return REGISTRY
