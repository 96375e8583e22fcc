"""``vnetdoctor export SESSION --format md|json|pcap [--redact] [-o FILE]``.

md is the report for a ticket, json the raw record (the ``diagnose --json``
document plus every observation and event), pcap the captured frames for
Wireshark. ``--redact`` renames addresses and host, domain, network, namespace
and interface names consistently across all three (one mapping per session, see
:mod:`vnetdoctor.redact`) and refuses to write anything — one line, exit 2, no
file — if an original value would survive in any spelling.

Output goes to ``-o FILE`` (written to a temporary file and renamed, so a
failure never leaves half a file) or to stdout; a pcap goes to stdout only when
stdout is not a terminal, because binary on a terminal is garbage at best.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from vnetdoctor.commands._stdout import emit
from vnetdoctor.probes.errors import UsageError
from vnetdoctor.knowledge.text import choose_lang
from vnetdoctor.probes.pcap import PcapError, frame_bytes, linktype_of, write_pcap
from vnetdoctor.redact import RedactionError, Redactor, machine_hostnames
from vnetdoctor.report import render_markdown
from vnetdoctor.store import RecordedSession, SessionStore, record_from_json

NOT_REDACTED = [
    "DNS names",
    "libvirt UUIDs",
    "names that occur only in free text",
]


def _redactor_for(session: RecordedSession, doc: dict[str, Any]) -> Redactor:
    """One mapping per session: scanning the whole record first makes md, json and pcap agree.

    This machine's host name is renamed as well as the one the session recorded
    (where the store gives it): a report made here must not say where it was made.
    """
    red = Redactor()
    for name in machine_hostnames():
        red.add_name("host", name)
    recorded_host = getattr(session, "hostname", None)
    if isinstance(recorded_host, str):
        red.add_name("host", recorded_host)
    red.scan_json(doc)
    return red


def _check(red: Redactor, leaks: list[str], what: str) -> None:
    if leaks:
        raise RedactionError(
            f"refusing to export: {len(leaks)} original value(s) would remain in the {what} "
            f"(e.g. {leaks[0]!r}); nothing was written, please report this"
        )


def _renamed(red: Redactor) -> dict[str, int]:
    return {**red.counts(), **red.name_counts()}


def export_json(session: RecordedSession, *, redact: bool) -> str:
    doc = session.to_json()
    if redact:
        red = _redactor_for(session, doc)
        doc = red.json(doc)
        doc["record"]["redaction"] = {"renamed": _renamed(red), "not_renamed": NOT_REDACTED}
        text = json.dumps(doc, ensure_ascii=False, indent=2)
        _check(red, red.leaks_in_text(text), "JSON record")
        _note(red)
        return text + "\n"
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def export_md(session: RecordedSession, *, redact: bool, lang: str) -> str:
    if not redact:
        return render_markdown(session, lang=lang)
    doc = session.to_json()
    red = _redactor_for(session, doc)
    redacted = record_from_json(red.json(doc))
    text = render_markdown(redacted, lang=lang, redacted=True)
    _check(red, red.leaks_in_text(text), "report")
    _note(red)
    return text


def export_pcap(session: RecordedSession, *, redact: bool) -> tuple[bytes, int]:
    frames = session.packets()
    if not frames:
        raise UsageError(f"session {session.id} has no captured packets")
    try:
        linktype = linktype_of(frames)
        data = [(r.time, frame_bytes(r), r.length) for r in frames]
    except PcapError as exc:
        raise UsageError(str(exc)) from None
    if redact:
        red = _redactor_for(session, session.to_json())
        data = [(t, red.frame(d, linktype), n) for t, d, n in data]
        leaks = [x for _, d, _ in data for x in red.leaks_in_bytes(d)]
        _check(red, leaks, "pcap")
        _note(red)
    import io

    buf = io.BytesIO()
    count = write_pcap(buf, data, linktype)
    return buf.getvalue(), count


def _note(red: Redactor) -> None:
    c = _renamed(red)
    print(
        f"vnetdoctor export: renamed {c['ipv4']} IPv4, {c['ipv6']} IPv6 and {c['mac']} MAC address(es), "
        f"{c['host']} host, {c['domain']} domain, {c['network']} network, {c['netns']} namespace "
        f"and {c['iface']} interface name(s); not renamed: {', '.join(NOT_REDACTED)}",
        file=sys.stderr,
    )


def _write(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same directory, then rename."""
    target = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=str(target.parent or Path(".")))
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def run(args: argparse.Namespace) -> int:
    with SessionStore(args.db, readonly=True) as store:
        session = store.load(store.resolve(args.session))
    to_stdout = args.output in (None, "-")
    if args.format == "pcap":
        if to_stdout and sys.stdout.isatty():
            raise UsageError(
                "refusing to write a binary pcap to the terminal: use -o FILE or a pipe"
            )
        data, _count = export_pcap(session, redact=args.redact)
    elif args.format == "json":
        data = export_json(session, redact=args.redact).encode()
    else:
        data = export_md(session, redact=args.redact, lang=choose_lang(args.lang)).encode()
    if to_stdout:
        emit(data)
    else:
        _write(args.output, data)
    return 0
