"""``vnetdoctor replay [SESSION]``: a recorded session in the walk, read-only.

The recorded step results go through the same screens as a live walk: a
Session built from the record (``vnetdoctor.session.replay``) emits them as the
engine did and serves the recorded observations, so a replay looks exactly like
the session did. No probe runs and no fix can be applied; SESSION is an id, a
unique prefix, ``last`` (the default) or ``last~N``.
"""

from __future__ import annotations

import argparse
from typing import Any


def replay_state(store: Any, session_id: str, lang: str) -> tuple[Any, Any]:
    """The App's state and engine factory for replaying ``session_id`` (``bench records`` times this path)."""
    from vnetdoctor.relang import in_language
    from vnetdoctor.session.replay import replay_factory
    from vnetdoctor.tui.state import SessionState

    # The frames stay in the store until the verdict is on screen (100k cost most of a second).
    # The recorded texts are said in the operator's language where their facts allow, as an
    # export does; the causes, rows and commands stay the record's own.
    said = in_language(store.load(session_id, with_packets=False), lang)
    recorded = said.session
    factory = replay_factory(recorded, store.with_frames)  # replay is a Session built from the record
    state = SessionState(
        request=recorded.request,
        lang=lang,
        replay=True,
        session_id=session_id,
        store=store,
        scenario=recorded.scenario,
        notice=said.notice("replay.kept_as_recorded"),
    )
    return state, factory


def run(args: argparse.Namespace) -> int:
    from vnetdoctor.interrupt import Interrupted, SignalGuard, interrupted_message
    from vnetdoctor.terminal_exit import say
    from vnetdoctor.knowledge.text import choose_lang
    from vnetdoctor.store import SessionStore
    from vnetdoctor.tui.launch import require_terminal, run_app

    store = SessionStore(args.db, readonly=True)  # a replay never changes a byte of the file
    session_id = store.resolve(args.session)
    require_terminal()
    lang = choose_lang(args.lang or None)
    state, factory = replay_state(store, session_id, lang)
    # SIGHUP/SIGTERM/SIGINT: the App exits through its driver, so the terminal is restored.
    with SignalGuard():
        try:
            return run_app(state, factory, autorun=True)
        except Interrupted as exc:
            say(interrupted_message(exc.signum, lang))
            return exc.exit_code
