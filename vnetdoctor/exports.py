"""Exports of a recorded session: the report, the raw record, and its frames as pcapng or pcap.

Why a module of its own below the commands: the CLI's ``export`` and the TUI's
Sessions screen write the same files, and the TUI may not import the CLI. Every
function writes into a binary file object and returns what the operator should
be told (the redaction note), so neither front end prints from in here.

md is the report for a ticket, json the raw record (the ``diagnose --json``
document plus every observation and event), pcapng the captured frames for
Wireshark with one named interface per capture point (``host:br0``,
``guest:eth0``) and the probe each frame belongs to, pcap the same frames as
classic pcap for tools that read nothing else (no interface names: a frame seen
on three hops is three anonymous copies). ``redact`` renames addresses and host,
domain, network, namespace and interface names consistently across all of them
(one mapping per session, see :mod:`vnetdoctor.redact`) and refuses to write
anything if an original value would survive in any spelling. Unredacted json and
pcapng stream frames from the table: bounded memory at any capture size.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

from vnetdoctor.atomic_write import write_with
from vnetdoctor.knowledge.text import choose_lang, tr
from vnetdoctor.probes.errors import UsageError
from vnetdoctor.probes.pcap import PcapError, frame_bytes, linktype_of, write_pcap
from vnetdoctor.probes.pcapng import Interface, row_record, side_namer, write_records
from vnetdoctor.relang import in_language
from vnetdoctor.redact import RedactionError, Redactor, machine_hostnames
from vnetdoctor.report import render_markdown
from vnetdoctor.store import RecordedSession, SessionStore, record_from_json

FORMATS = ("md", "json", "pcapng", "pcap")
BINARY = ("pcapng", "pcap")
SUFFIX = {"md": ".md", "json": ".json", "pcapng": ".pcapng", "pcap": ".pcap"}

NOT_REDACTED = [
    "DNS names",
    "libvirt UUIDs",
    "names that occur only in free text",
]


def _redactor_for(session: RecordedSession, doc: dict[str, Any] | None = None) -> Redactor:
    """One mapping per session, the same for every format: md, json, pcapng and pcap agree.

    Pseudonyms are given in first-seen order, so every export scans in one canonical
    order: the record without its frames, then each distinct frame (with its
    interface and vantage) in recorded order. Identical frames — one probe
    packet seen on three hops — are scanned once, which is what keeps a 100k-frame
    redaction fast. This machine's host name is renamed as well as the one the
    session recorded: a report made here must not say where it was made.
    """
    red = Redactor()
    for name in machine_hostnames():
        red.add_name("host", name)
    recorded_host = getattr(session, "hostname", None)
    if isinstance(recorded_host, str):
        red.add_name("host", recorded_host)
    light, frames = _split_frames(doc if doc is not None else session.to_json())
    red.scan_json(light)
    seen_frames: set[tuple[str, int]] = set()
    seen_text: set[str] = set()
    for row in frames:
        if isinstance(row.get("iface"), str):
            red.add_name("iface", row["iface"])
        # A summary is decoded from its frame: its addresses are the frame's, scanned below.
        vantage = row.get("vantage")
        if isinstance(vantage, str) and vantage not in seen_text:
            seen_text.add(vantage)
            red.scan_text(vantage)
        frame_key = (str(row.get("data_hex", "")), int(row.get("linktype") or 1))
        if frame_key not in seen_frames:
            seen_frames.add(frame_key)
            try:
                red.scan_frame(bytes.fromhex(frame_key[0]), frame_key[1])
            except ValueError:
                red.scan_text(frame_key[0])
    return red


def _split_frames(doc: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The record with its PacketRows taken out of every observation, and those rows in order."""
    frames: list[dict[str, Any]] = []
    steps = []
    for step in doc.get("steps", ()):
        observations = []
        for obs in step.get("observations", ()):
            rows = obs.get("rows", ())
            frames.extend(r for r in rows if isinstance(r, dict) and r.get("_type") == "PacketRow")
            kept = [r for r in rows if not (isinstance(r, dict) and r.get("_type") == "PacketRow")]
            observations.append({**obs, "rows": kept})
        steps.append({**step, "observations": observations})
    return {**doc, "steps": steps}, frames


def _check(red: Redactor, leaks: list[str], what: str) -> None:
    if leaks:
        raise RedactionError(
            f"refusing to export: original values that would remain in the {what}: {len(leaks)} "
            f"(e.g. {leaks[0]!r}); nothing was written, please report this"
        )


def _renamed(red: Redactor) -> dict[str, int]:
    return {**red.counts(), **red.name_counts()}


def _json_in(session: RecordedSession, lang: str | None) -> dict[str, Any]:
    """The raw record; asked for a language, its texts said in that one (see :mod:`.relang`)."""
    if lang is None:
        return session.to_json()
    said = in_language(session, lang)
    doc = said.session.to_json()
    doc["record"]["language"] = {"shown": lang, "recorded": said.recorded_lang, "kept_as_recorded": said.kept,
                                 **({"notice": said.notice()} if said.kept else {})}
    return doc


def export_json(session: RecordedSession, *, redact: bool, notes: list[str] | None = None,
                lang: str | None = None) -> str:
    doc = _json_in(session, lang)
    if redact:
        red = _redactor_for(session, doc)
        doc = red.json(doc)
        doc["record"]["redaction"] = {"renamed": _renamed(red), "not_renamed": NOT_REDACTED}
        text = json.dumps(doc, ensure_ascii=False, indent=2)
        _check(red, red.leaks_in_text(text), "JSON record")
        _note(red, notes)
        return text + "\n"
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def export_md(session: RecordedSession, *, redact: bool, lang: str, notes: list[str] | None = None) -> str:
    said = in_language(session, lang)  # one language throughout, evidence included
    if not redact:
        return render_markdown(said.session, lang=lang, notice=said.notice())
    doc = said.session.to_json()
    red = _redactor_for(session, doc)
    redacted = record_from_json(red.json(doc))
    text = render_markdown(redacted, lang=lang, redacted=True, notice=red.text(said.notice()))
    _check(red, red.leaks_in_text(text), "report")
    _note(red, notes)
    return text


def export_pcap(session: RecordedSession, *, redact: bool, notes: list[str] | None = None) -> tuple[bytes, int]:
    frames = session.packets()
    if not frames:
        raise UsageError(tr("cli.no_packets", id=session.id))
    try:
        linktype = linktype_of(frames)
        data = [(r.time, frame_bytes(r), r.length) for r in frames]
    except PcapError as exc:
        raise UsageError(str(exc)) from None
    if redact:
        red = _redactor_for(session)
        data = [(t, red.frame(d, linktype), n) for t, d, n in data]
        leaks = [x for _, d, _ in data for x in red.leaks_in_bytes(d)]
        _check(red, leaks, "pcap")
        _note(red, notes)
    import io

    buf = io.BytesIO()
    count = write_pcap(buf, data, linktype)
    return buf.getvalue(), count


def session_sides(session: RecordedSession) -> dict[str, str]:
    """Which recorded vantage is the host and which the guest: the names pcapng interfaces get."""
    sides = {str(session.request.host): "host"}
    if session.request.guest is not None:
        sides[str(session.request.guest)] = "guest"
    return sides


def export_pcapng(session: RecordedSession, *, redact: bool, notes: list[str] | None = None) -> tuple[bytes, int]:
    """The captured frames as pcapng: one interface per vantage and interface, ns times, probe comments."""
    import io

    frames = session.packets()
    if not frames:
        raise UsageError(tr("cli.no_packets", id=session.id))
    name = side_namer(session_sides(session))
    buf = io.BytesIO()
    if not redact:
        try:
            count = write_records(buf, (row_record(r) for r in frames), name)
        except PcapError as exc:
            raise UsageError(str(exc)) from None
        return buf.getvalue(), count
    red = _redactor_for(session)

    def interface_of(vantage: str, iface: str, linktype: int) -> Interface:
        named = name(vantage, iface, linktype)
        return Interface(red.text(named.name), named.linktype, red.text(named.description))

    rewritten: dict[tuple[str, int], bytes] = {}  # one probe packet on three hops: rewritten once

    def frame_of(hexdata: str, linktype: int) -> bytes:
        key = (hexdata, linktype)
        if key not in rewritten:
            rewritten[key] = red.frame(bytes.fromhex(hexdata), linktype)
        return rewritten[key]

    try:
        count = write_records(buf, (row_record(r) for r in frames), interface_of, frame_of)
    except PcapError as exc:
        raise UsageError(str(exc)) from None
    data = buf.getvalue()
    _check(red, red.leaks_in_bytes(data), "pcapng")
    _note(red, notes)
    return data, count


def _note(red: Redactor, notes: list[str] | None) -> None:
    """What redaction renamed, for the operator (the caller decides where it is shown)."""
    if notes is None:
        return
    notes.append(tr("cli.redacted", **_renamed(red)))  # a phrase: the command says it in its --lang


def stream_json(store: SessionStore, session_id: str, out: BinaryIO, lang: str | None = None) -> None:
    """The raw record as ``export_json`` makes it, with the frames streamed from the table.

    Memory stays bounded at any capture size: the session is loaded without its
    frames, and each frame is written into its observation's ``rows`` at its
    recorded position as the table yields it. One frame per line.
    """
    session = store.load(session_id, with_packets=False)
    doc = _json_in(session, lang)
    steps, tail = doc.pop("steps"), {"record": doc.pop("record"), "events": doc.pop("events")}
    seqs = store.step_seqs(session_id)
    slots = store.iter_packet_slots(session_id)
    pending = next(slots, None)

    def put(text: str) -> None:
        out.write(text.encode())

    def block(value: Any, depth: int) -> str:
        return json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n" + "  " * depth)

    put("{\n")
    for key, value in doc.items():
        put(f"  {json.dumps(key)}: {block(value, 1)},\n")
    put('  "steps": [')
    for i, (seq, step) in enumerate(zip(seqs, steps)):
        observations = step.pop("observations", [])
        put(("," if i else "") + "\n    {\n")
        for key, value in step.items():
            put(f"      {json.dumps(key)}: {block(value, 3)},\n")
        put('      "observations": [')
        for oi, obs in enumerate(observations):
            kept = obs.pop("rows", [])
            put(("," if oi else "") + "\n        {\n")
            for key, value in obs.items():
                put(f"          {json.dumps(key)}: {block(value, 5)},\n")
            put('          "rows": [')
            written = 0
            while pending is not None and (pending[0], pending[1]) == (seq, oi):
                while written < pending[2] and kept:
                    put(("," if written else "") + "\n            " + json.dumps(kept.pop(0), ensure_ascii=False))
                    written += 1
                put(("," if written else "") + "\n            " + json.dumps(pending[3], ensure_ascii=False))
                written += 1
                pending = next(slots, None)
            for row in kept:
                put(("," if written else "") + "\n            " + json.dumps(row, ensure_ascii=False))
                written += 1
            put("\n          ]\n        }" if written else "]\n        }")
        put("\n      ]\n    }" if observations else "]\n    }")
    put("\n  ],\n" if steps else "],\n")
    put(f'  "record": {block(tail["record"], 1)},\n  "events": {block(tail["events"], 1)}\n}}\n')


def stream_pcapng(store: SessionStore, session_id: str, out: BinaryIO) -> int:
    """Write a session's frames as pcapng straight from the table: bounded memory at any size."""
    rows = store.iter_packet_records(session_id)
    first = next(rows, None)
    if first is None:
        raise UsageError(tr("cli.no_packets", id=session_id))
    request = store.request_of(session_id)
    sides = {str(request.host): "host", **({str(request.guest): "guest"} if request.guest else {})}
    try:
        return write_records(out, itertools.chain([first], rows), side_namer(sides))
    except PcapError as exc:
        raise UsageError(str(exc)) from None


_STREAMED: dict[str, Callable[[SessionStore, str, BinaryIO], object]] = {
    "json": stream_json,
    "pcapng": stream_pcapng,
}


@dataclass(frozen=True)
class Exported:
    """What an export wrote: the note for the operator (what redaction renamed), if any."""

    note: str = ""


def export_session(store: SessionStore, session_id: str, fmt: str, out: BinaryIO, *,
                   redact: bool = False, lang: str | None = None) -> Exported:
    """Write session ``session_id`` in ``fmt`` (one of :data:`FORMATS`) into ``out``."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format {fmt!r} (one of {', '.join(FORMATS)})")
    if fmt == "json" and not redact:
        stream_json(store, session_id, out, lang)
        return Exported()
    streamer = None if redact else _STREAMED.get(fmt)
    if streamer is not None:
        streamer(store, session_id, out)
        return Exported()
    session = store.load(session_id)
    notes: list[str] = []
    if fmt == "pcapng":
        data, _count = export_pcapng(session, redact=redact, notes=notes)
    elif fmt == "pcap":
        data, _count = export_pcap(session, redact=redact, notes=notes)
    elif fmt == "json":
        data = export_json(session, redact=redact, notes=notes, lang=lang).encode()
    else:
        data = export_md(session, redact=redact, lang=choose_lang(lang), notes=notes).encode()
    out.write(data)
    return Exported(notes[0] if len(notes) == 1 else "\n".join(notes))


def export_to_file(store: SessionStore, session_id: str, fmt: str, path: str, *,
                   redact: bool = False, lang: str | None = None) -> Exported:
    """Like :func:`export_session`, into ``path`` through a temporary file renamed into place."""
    result: list[Exported] = []
    write_with(path, lambda fh: result.append(export_session(store, session_id, fmt, fh, redact=redact, lang=lang)))
    return result[0]
