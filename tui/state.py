"""What every screen of one TUI session shares: the request, the engine, the path, the options.

Built once by the command that opens the TUI (``tui``, ``demo``, ``replay``) and
handed to the App; screens read it, they do not rebuild it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vnetdoctor.knowledge.events import EngineLike
from vnetdoctor.knowledge.model import Request
from vnetdoctor.probes.vantage import Vantage

if TYPE_CHECKING:
    from vnetdoctor.session import Session


@dataclass
class SessionState:
    request: Request | None  # None until the Start screen has a target
    engine: EngineLike | None = None
    session: Session | None = None  # the Session running this walk (set by the walk screen)
    lang: str = "en"
    allow_changes: bool = False  # applying fixes is offered only with --allow-changes
    replay: bool = False  # a recorded session: read-only, no probes run
    session_id: str | None = None  # the store's id for this session (None with --no-record)
    store: Any = None  # vnetdoctor.store.SessionStore, or None
    # (vantage, interface) pairs along the path, for captures: filled from the engine's path
    path_ifaces: list[tuple[Vantage, str]] = field(default_factory=list)
    scenario: str | None = None  # the lab scenario name in a demo
    # `vnetdoctor sessions` on a terminal: the App opens the Sessions screen on this database,
    # searching for sessions_query; a session chosen to replay comes back in replay_choice.
    sessions_db: Any = None
    sessions_query: str = ""
    sessions_focus: str | None = None  # highlight this one (the session just replayed)
    replay_choice: str | None = None
    notice: str = ""  # one line the App shows when it opens (a replay's texts kept as recorded)
