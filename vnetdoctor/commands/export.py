"""``vnetdoctor export SESSION --format md|json|pcapng|pcap [--redact] [-o FILE]``.

The formats, redaction and streaming live in :mod:`vnetdoctor.exports` (the TUI's
Sessions screen writes the same files). Here: where the bytes go. Output goes to
``-o FILE`` (written to a temporary file and renamed, so a failure never leaves
half a file; a FILE that exists is left alone unless ``--force``, as the Sessions
screen refuses it: an export must not silently replace yesterday's report) or to stdout; a capture file goes to stdout only when stdout is not a
terminal, because binary on a terminal is garbage at best. What redaction renamed
is said on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys

from vnetdoctor.atomic_write import is_special
from vnetdoctor.exports import BINARY, export_session, export_to_file
from vnetdoctor.knowledge.text import choose_lang, in_lang, tr
from vnetdoctor.probes.errors import UsageError
from vnetdoctor.store import SessionStore


def run(args: argparse.Namespace) -> int:
    to_stdout = args.output in (None, "-")
    if args.format in BINARY and to_stdout and sys.stdout.isatty():
        raise UsageError(tr("cli.binary_to_terminal", format=args.format))
    # A device or FIFO (-o /dev/null) is written into, never replaced: nothing to lose there.
    if not to_stdout and not args.force and os.path.lexists(args.output) and not is_special(args.output):
        raise UsageError(tr("cli.export_exists", path=args.output))
    with SessionStore(args.db, readonly=True) as store:
        session_id = store.resolve(args.session)
        if to_stdout:
            done = export_session(store, session_id, args.format, sys.stdout.buffer,
                                  redact=args.redact, lang=args.lang)
            sys.stdout.buffer.flush()
        else:
            done = export_to_file(store, session_id, args.format, args.output, redact=args.redact, lang=args.lang)
    if done.note:
        print(in_lang(done.note, choose_lang(args.lang))[0], file=sys.stderr)
    return 0
