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
strings. They are converted here, on read, and only here (:func:`upgrade_observation`,
:func:`upgrade_kernel_devices`, :func:`extra_from_json`), so every reader above
sees one shape, and nothing recorded is lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from vnetdoctor.knowledge.model import StepResult
from vnetdoctor.knowledge.path import PathPoint
from vnetdoctor.probes.kernel_drops_parse import KernelDropRow
from vnetdoctor.probes.row_types import from_json, kind_of
from vnetdoctor.probes.rows import PacketRow
from vnetdoctor.probes.rows_active import CaptureFailure

PACKET_KIND = kind_of(PacketRow)
FAILURE_KIND = kind_of(CaptureFailure)
KERNEL_KIND = kind_of(KernelDropRow)

# --- captured frames: their own table ---------------------------------------------------------

# The packets table's columns that hold a frame, in the order the loader selects them.
PACKET_COLUMNS = ("time", "vantage", "iface", "length", "linktype", "hex", "summary", "tag")


def packet_columns(row: Mapping[str, Any]) -> dict[str, Any]:
    """A recorded PacketRow (its JSON form) as the packets table's columns."""
    return {
        "time": row.get("time"),
        "vantage": row.get("vantage"),
        "iface": row.get("iface"),
        "length": row.get("length"),
        "linktype": row.get("linktype", 1),
        "hex": row.get("data_hex", ""),
        "summary": row.get("summary", ""),
        "tag": row.get("tag", ""),
    }


def packet_from_columns(t: float, vantage: str, iface: str, length: int, linktype: int, hexdata: str,
                        summary: str, tag: str) -> dict[str, Any]:
    """The packets table's columns (:data:`PACKET_COLUMNS` order) as the PacketRow's JSON form."""
    return {"_type": PACKET_KIND, "time": t, "vantage": vantage, "iface": iface, "length": length,
            "summary": summary, "data_hex": hexdata, "linktype": linktype, "tag": tag}


def packet_row_from_columns(t: float, vantage: str, iface: str, length: int, linktype: int, hexdata: str,
                            summary: str, tag: str) -> PacketRow:
    """The packets table's columns as the PacketRow itself (loading: no JSON form in between)."""
    return PacketRow(t, vantage, iface, length, summary, hexdata, linktype, tag)


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
    upgraded["observations"] = [upgrade_kernel_devices(upgrade_observation(o)) for o in data.get("observations", ())]
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


def _device_from_label(label: str) -> dict[str, str]:
    side, sep, iface = label.partition(" ")
    return {"side": side, "iface": iface} if sep else {"side": "", "iface": label}


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
