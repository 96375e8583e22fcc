"""The one converter between a recorded session's objects and what is stored or exported.

Everything a session records goes into SQLite (and into ``export --format json``)
as structured JSON and comes back as the same objects: rows through the row
registry's codec (:mod:`vnetdoctor.probes.row_types`), captured frames through
their own table's columns, the verdict's path as :class:`PathPoint` records.
Nothing is written as a sentence to be split again.

Records made before these shapes existed (store schema 1, exports of that time)
held two things as text: a capture's unopened points joined into its
observation's ``raw`` (``"vnet0@netns:lab: No such device; …"``) and the path as
``"side:iface"`` strings; a kernel.drops row's devices were ``"side iface"``
strings; a captured frame's direction, protocol, addresses and kind were only in
its summary line (store schema 1, :func:`packet_fields_from_summary`); an echo row
said what went wrong only in words (``error``, before ``failure``). They are
converted here, on read, and only here (:func:`upgrade_observation`,
:func:`upgrade_kernel_devices`, :func:`upgrade_packets`, :func:`upgrade_echo_rows`,
:func:`extra_from_json`),
so every reader above sees one shape, and nothing recorded is lost.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from sys import intern
from typing import Any

from vnetdoctor.knowledge.model import StepResult
from vnetdoctor.knowledge.path import PathPoint
from vnetdoctor.probes.guest_ping import failure_of
from vnetdoctor.probes.kernel_drops_parse import KernelDropRow
from vnetdoctor.probes.row_types import from_json, kind_of
from vnetdoctor.probes.rows import PacketRow
from vnetdoctor.probes.rows_active import CaptureFailure, EchoRow
from vnetdoctor.probes.vocabulary import Direction, EchoFailure, PacketKind

PACKET_KIND = kind_of(PacketRow)
FAILURE_KIND = kind_of(CaptureFailure)
KERNEL_KIND = kind_of(KernelDropRow)
ECHO_KIND = kind_of(EchoRow)

# --- captured frames: their own table ---------------------------------------------------------

# The packets table's columns that hold a frame, in the order the loader selects them.
PACKET_COLUMNS = ("time", "vantage", "iface", "length", "linktype", "hex", "summary", "tag")
# The frame's decoded fields (store schema 2) and their column types, selected after
# PACKET_COLUMNS; NULL in a row of schema 1. The names are PacketRow's fields.
FIELD_TYPES: dict[str, type] = {
    "direction": str, "proto": str, "src": str, "dst": str, "sport": int, "dport": int,
    "kind": str, "info": str, "info_more": str,
}
FIELD_COLUMNS = tuple(FIELD_TYPES)


def packet_columns(row: Mapping[str, Any]) -> dict[str, Any]:
    """A recorded PacketRow (its JSON form, any version) as the packets table's columns."""
    fields = _fields_of(row)
    return {
        "time": row.get("time"),
        "vantage": row.get("vantage"),
        "iface": row.get("iface"),
        "length": row.get("length"),
        "linktype": row.get("linktype", 1),
        "hex": row.get("data_hex", ""),
        "summary": row.get("summary", ""),
        "tag": row.get("tag", ""),
        **{name: fields[name] for name in FIELD_COLUMNS},
    }


def packet_from_columns(t: float, vantage: str, iface: str, length: int, linktype: int, hexdata: str,
                        summary: str, tag: str, *fields: Any) -> dict[str, Any]:
    """The packets table's columns (:data:`PACKET_COLUMNS` then :data:`FIELD_COLUMNS`) as the
    PacketRow's JSON form; a row of schema 1 (its fields NULL) gets them from its summary."""
    return {"_type": PACKET_KIND, "time": t, "vantage": vantage, "iface": iface, "length": length,
            "summary": summary, "data_hex": hexdata, "linktype": linktype, "tag": tag,
            **_stored_fields(summary, fields)}


def packet_row_from_columns(t: float, vantage: str, iface: str, length: int, linktype: int, hexdata: str,
                            summary: str, tag: str, *fields: Any) -> PacketRow:
    """The packets table's columns as the PacketRow itself (loading: no JSON form in between).

    The hot path of loading 100k frames. A frozen dataclass's ``__init__`` sets each of
    PacketRow's 17 fields through ``object.__setattr__`` (2.2 µs a row, twice what the
    8 fields before the decoded ones cost); filling the new instance's ``__dict__`` costs
    1.0 µs and gives the same row (PacketRow has no ``__post_init__`` and no slots:
    tests/unit/test_packet_fields.py holds both, and that FIELD_COLUMNS is its field
    order after ``tag``). The texts are shared — a ping seen on three hops, 100k frames
    of a few addresses — so each is kept once: 57 MiB instead of 90 for 100k rows.
    """
    if len(fields) == len(FIELD_COLUMNS) and fields[0] is not None:
        direction, proto, src, dst, sport, dport, kind, info, info_more = fields
        row = _new_row(PacketRow)
        row.__dict__.update(zip(_ROW_FIELDS, (
            t, vantage, iface, length, summary, hexdata, linktype, tag, intern(direction), intern(proto),
            intern(src), intern(dst), sport, dport, intern(kind), intern(info), intern(info_more))))
        return row
    return PacketRow(t, vantage, iface, length, summary, hexdata, linktype, tag, **packet_fields_from_summary(summary))


_new_row = object.__new__
_ROW_FIELDS = tuple(f.name for f in dataclasses.fields(PacketRow))


def _stored_fields(summary: str, fields: tuple[Any, ...]) -> dict[str, Any]:
    """The stored fields by name, or (schema 1, NULL) the ones its summary gives."""
    if len(fields) == len(FIELD_COLUMNS) and fields[0] is not None:
        return dict(zip(FIELD_COLUMNS, fields))
    return packet_fields_from_summary(summary)


def _fields_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """A PacketRow JSON's decoded fields: its own, or (schema 1) derived from its summary."""
    if "proto" in row:
        return {name: row.get(name, _FIELD_DEFAULTS[name]) for name in FIELD_COLUMNS}
    return packet_fields_from_summary(str(row.get("summary", "")))


_FIELD_DEFAULTS: dict[str, Any] = {name: kind() for name, kind in FIELD_TYPES.items()}


def split_frames(step: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Take the frames out of a step's JSON (in place): each as columns with its place in the step.

    Frames go to their own table (a 100k-frame session must not be one JSON blob);
    ``obs_index``/``row_index`` say where :func:`put_frames_back` returns them.
    """
    frames: list[dict[str, Any]] = []
    for obs_index, obs in enumerate(step.get("observations", ())):
        kept = []
        for row_index, row in enumerate(obs.get("rows", ())):
            if isinstance(row, Mapping) and row.get("_type") == PACKET_KIND:
                frames.append({"obs_index": obs_index, "row_index": row_index, **packet_columns(row)})
            else:
                kept.append(row)
        obs["rows"] = kept
    return frames


def put_frames_back(step: dict[str, Any], frames: Iterable[tuple[int, int, Any]]) -> dict[str, Any]:
    """The inverse of :func:`split_frames`: ``(obs_index, row_index, row)`` back in place, given in
    row order (rows in their JSON form, or PacketRows already)."""
    observations = step.get("observations", ())
    by_obs: dict[int, list[tuple[int, Any]]] = {}
    for oi, ri, row in frames:
        by_obs.setdefault(oi, []).append((ri, row))
    for oi, placed in by_obs.items():
        if oi >= len(observations):
            continue
        rows = list(observations[oi].get("rows", ()))
        for ri, row in placed:  # in row order, as the packets table is read
            rows.insert(min(ri, len(rows)), row)
        observations[oi]["rows"] = rows
    return step


def step_from_json(data: Mapping[str, Any]) -> StepResult:
    """A recorded step (its stored or exported JSON, any version) as the engine's StepResult."""
    upgraded = dict(data)
    upgraded["observations"] = [upgrade_echo_rows(upgrade_packets(upgrade_kernel_devices(upgrade_observation(o))))
                                for o in data.get("observations", ())]
    return StepResult.from_dict(upgraded)


# --- records of schema 1 ---------------------------------------------------------------------

LISTENED_ON = "listened on"  # what a capture's raw said when every point opened (schema 1)


def upgrade_observation(obs: Mapping[str, Any]) -> Mapping[str, Any]:
    """A capture observation of schema 1 with its unopened points as CaptureFailure rows.

    Schema 1 wrote them only into ``raw`` as ``"POINT: REASON; POINT: REASON"``,
    POINT being ``iface@vantage`` or ``capture`` (the capture as a whole). An
    observation that carries CaptureFailure rows already is of the new shape and
    is returned as it is; ``raw`` is kept either way (what was recorded stays).
    """
    probe = str(obs.get("probe", ""))
    raw = str(obs.get("raw") or "")
    rows = list(obs.get("rows", ()))
    if (not probe.startswith("capture") or not raw or raw.startswith(LISTENED_ON)
            or any(isinstance(r, Mapping) and r.get("_type") == FAILURE_KIND for r in rows)):
        return obs
    failures = []
    for part in raw.split("; "):
        point, sep, reason = part.partition(": ")
        if not sep:
            continue
        iface, at, vantage = point.partition("@")
        if not at:
            iface, vantage = "", ""  # "capture": the whole capture failed to start
        failures.append({"_type": FAILURE_KIND, "vantage": vantage, "iface": iface, "reason": reason})
    return {**obs, "rows": [*rows, *failures]}


def upgrade_kernel_devices(obs: Mapping[str, Any]) -> Mapping[str, Any]:
    """kernel.drops rows of schema 1 with their devices as ``{"side", "iface"}`` records.

    Schema 1 wrote each device a probe packet crossed as ``"side iface"`` (``"host br0"``,
    ``"other eth0"``); an interface name has no space, so the first space splits them.
    Rows of the new shape, and every other row, are returned as they are.
    """
    rows = obs.get("rows", ())
    if not any(isinstance(r, Mapping) and r.get("_type") == KERNEL_KIND
               and any(isinstance(d, str) for d in r.get("devices", ())) for r in rows):
        return obs
    upgraded = []
    for r in rows:
        if isinstance(r, Mapping) and r.get("_type") == KERNEL_KIND:
            r = {**r, "devices": [_device_from_label(d) if isinstance(d, str) else d for d in r.get("devices", ())]}
        upgraded.append(r)
    return {**obs, "rows": upgraded}


def upgrade_echo_rows(obs: Mapping[str, Any]) -> Mapping[str, Any]:
    """Echo rows recorded before they said what their error was, with ``failure`` read from its words.

    An ICMP error was written ``"<what> from <address>"`` (the raw ping's words and
    ping's own, both of which :func:`~vnetdoctor.probes.guest_ping.failure_of` knows);
    a send that failed was the kernel's bare strerror (``"Network is unreachable"``):
    the request never left. Rows that have the field, and every other row, are
    returned as they are.
    """
    rows = obs.get("rows", ())
    # An observation's rows are one probe's, of one type: the first says whether to look
    # further (a 100,000-frame capture is not scanned row by row on every load).
    if not rows or not (isinstance(rows[0], Mapping) and rows[0].get("_type") == ECHO_KIND):
        return obs
    if not any(_old_echo(r) for r in rows):
        return obs
    return {**obs, "rows": [{**r, "failure": _failure_in(str(r["error"]))} if _old_echo(r) else r for r in rows]}


def _old_echo(row: Any) -> bool:
    return isinstance(row, Mapping) and row.get("_type") == ECHO_KIND and "failure" not in row and bool(row.get("error"))


def _failure_in(error: str) -> str:
    if "from " not in error.lower():
        return EchoFailure.NOT_SENT.value
    return failure_of(error).value


def _device_from_label(label: str) -> dict[str, str]:
    side, sep, iface = label.partition(" ")
    return {"side": side, "iface": iface} if sep else {"side": "", "iface": label}


def upgrade_packets(obs: Mapping[str, Any]) -> Mapping[str, Any]:
    """PacketRows of schema 1 (JSON without the decoded fields) with the fields their summary gives.

    A row that has the fields (any row of the new shape has ``proto``, empty or not),
    a PacketRow already built by the store's loader, and every other row are returned
    as they are.
    """
    rows = obs.get("rows", ())
    if not any(isinstance(r, Mapping) and r.get("_type") == PACKET_KIND and "proto" not in r for r in rows):
        return obs
    upgraded = [
        {**r, **packet_fields_from_summary(str(r.get("summary", "")))}
        if isinstance(r, Mapping) and r.get("_type") == PACKET_KIND and "proto" not in r else r
        for r in rows
    ]
    return {**obs, "rows": upgraded}


# What schema 1's capture wrote (``probes.frame_summary`` still writes these lines, as display text).
_IP_FLOW = re.compile(r"^(?P<proto>[A-Z][A-Za-z0-9]*) (?P<src>\S+) > (?P<dst>\S+)\s*(?P<info>.*)$")
_ARP_ASK = re.compile(r"^ARP who-has (?P<dst>\S+) tell (?P<src>\S+)(?P<more>\s*.*)$")
_ARP_TELL = re.compile(r"^ARP (?P<src>\S+) is-at (?P<mac>\S+)\s*(?P<more>.*)$")
_INFO_MORE = re.compile(r"(?P<more> len=\d+( DF)?)$")
_KINDS = {("ICMP", "echo-request"): PacketKind.ECHO_REQUEST, ("ICMP", "echo-reply"): PacketKind.ECHO_REPLY}
_PORTED = ("TCP", "UDP")


def packet_fields_from_summary(summary: str) -> dict[str, Any]:
    """The decoded fields of a schema-1 frame, read from its summary line (the only place they were).

    ``"out ICMP a > b echo-request id=1 seq=1 len=84 DF"`` gives direction ``out``,
    proto ``ICMP``, src ``a``, dst ``b``, kind ``echo-request``, info
    ``echo-request id=1 seq=1`` and info_more `` len=84 DF``; a line of no known shape
    keeps it whole as its info. This is the one reader of summary lines.
    """
    direction, text = Direction.UNKNOWN, summary
    for way in (Direction.IN, Direction.OUT):
        if text.startswith(f"{way} "):
            direction, text = way, text[len(way) + 1 :].lstrip()
            break
    out: dict[str, Any] = {**_FIELD_DEFAULTS, "direction": direction, "info": text}
    m = _ARP_ASK.match(text)
    if m:
        return {**out, "proto": "ARP", "src": m["src"], "dst": m["dst"], "kind": PacketKind.WHO_HAS,
                "info": f"who-has {m['dst']}", "info_more": m["more"]}
    m = _ARP_TELL.match(text)
    if m:
        return {**out, "proto": "ARP", "src": m["src"], "kind": PacketKind.IS_AT,
                "info": f"is-at {m['mac']} {m['more']}".strip()}
    m = _IP_FLOW.match(text)
    if not m:
        return out
    proto, info = m["proto"], m["info"]
    more = _INFO_MORE.search(info)
    if more:
        info, out["info_more"] = info[: more.start()], more["more"]
    out.update(proto=proto, src=m["src"], dst=m["dst"], info=info,
               kind=_KINDS.get((proto, info.split(" ", 1)[0]), PacketKind.OTHER))
    if proto in _PORTED:
        for end in ("src", "dst"):
            addr, sep, port = out[end].rpartition(":")
            if sep and port.isdigit():
                out[end], out[end[0] + "port"] = addr, int(port)
    return out


# --- the verdict's extra facts ----------------------------------------------------------------


def extra_to_json(extra: Mapping[str, Any]) -> dict[str, Any]:
    """``Diagnosis.extra`` as stored: the path as ``{"side", "iface"}`` records."""
    out = dict(extra)
    if "path" in out:
        out["path"] = [{"side": p.side, "iface": p.iface} if isinstance(p, PathPoint) else p for p in out["path"]]
    return out


def extra_from_json(data: Mapping[str, Any] | None) -> dict[str, Any]:
    """The inverse of :func:`extra_to_json`; schema 1's ``"side:iface"`` strings become PathPoints too."""
    out = dict(data or {})
    if "path" in out:
        points = []
        for item in out["path"] or ():
            if isinstance(item, Mapping):
                points.append(from_json(PathPoint, item))
            elif isinstance(item, str):  # schema 1: "side:iface" (a bare name: side unknown)
                side, _, iface = item.rpartition(":")
                points.append(PathPoint(side, iface))
        out["path"] = tuple(points)
    return out
