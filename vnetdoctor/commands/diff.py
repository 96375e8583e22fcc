"""``vnetdoctor diff A B``: what changed between two sessions (A before, B after a fix).

Session references are what ``resolve`` takes: a full id, a unique prefix,
``last``, or ``last~N`` (so ``vnetdoctor diff last~1 last`` compares the two most
recent runs). Exit status 0 whether or not anything changed: the output is for
reading; scripts compare ``export --format json`` documents.
"""

from __future__ import annotations

import argparse

from vnetdoctor.commands._stdout import emit
from vnetdoctor.probes.errors import UsageError
from vnetdoctor.knowledge.text import choose_lang
from vnetdoctor.sessiondiff import diff_sessions, render_diff
from vnetdoctor.store import SessionStore


def run(args: argparse.Namespace) -> int:
    with SessionStore(args.db, readonly=True) as store:
        id_a, id_b = store.resolve(args.session_a), store.resolve(args.session_b)
        if id_a == id_b:
            raise UsageError(
                f"{args.session_a!r} and {args.session_b!r} are the same session ({id_a})"
            )
        a, b = store.load(id_a), store.load(id_b)
    emit(render_diff(diff_sessions(a, b), a, b, lang=choose_lang(args.lang)))
    return 0
