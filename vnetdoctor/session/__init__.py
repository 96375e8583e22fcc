"""The headless session core: the one door the CLI and the TUI use to diagnose.

- :mod:`.request`: the one parser and validator of a :class:`Request` (errors keyed by field);
- :mod:`.core`: :class:`Session`, which runs the engine and fans every event out to sinks,
  and applies a fix;
- :mod:`.sinks`: the recorder's sink and the console's progress line;
- :mod:`.recorder`: the write-behind queue in front of the store;
- :mod:`.targets`: the guests this host knows about (the Start screen's list);
- :mod:`.replay`: a Session built from a record.

A floor between the rules (``knowledge``) and the front ends (``tui``, the commands):
it may use the store, the reports and the lab's door, never Textual.
"""

from __future__ import annotations

from .core import Change, EngineFactory, FixOutcome, Noted, Observed, Opened, Session, Sink, live_engine_factory

__all__ = ["Change", "EngineFactory", "FixOutcome", "Noted", "Observed", "Opened", "Session", "Sink", "live_engine_factory"]
