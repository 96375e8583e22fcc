"""Replay is a Session built from a record: the same events, observations served from the record.

The recorded steps are emitted again by a :class:`~vnetdoctor.knowledge.replay.ReplayEngine`
as the live engine emitted them, and every observation the record holds (the steps',
and those the Tables screen made outside a step) is served through the live
observer's interface, so a screen asks the session for its data the same way live
and in replay. Nothing here runs a probe or changes the system.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from vnetdoctor.knowledge.events import AskFn, EngineLike
from vnetdoctor.knowledge.model import Request
from vnetdoctor.knowledge.replay import ReplayEngine
from vnetdoctor.probes.base import Observation

from .core import EngineFactory, Session, Sink
from .sinks import OBSERVATION


def recorded_observations(recorded: Any) -> list[Observation]:
    """The observations recorded outside a step (``observation`` events), in order."""
    out: list[Observation] = []
    for event in getattr(recorded, "events", ()):
        if event.kind != OBSERVATION:
            continue
        try:
            out.append(Observation.from_dict(event.detail))
        except (KeyError, TypeError, ValueError):
            continue  # an event this version cannot read serves nothing, never a crash
    return out


def replay_factory(recorded: Any) -> EngineFactory:
    """The engine factory of a replay: the record's steps, verdict and observations."""

    def factory(request: Request, ask: AskFn, on_event: Any) -> EngineLike:
        return ReplayEngine(recorded.request, recorded.latest_steps(), recorded.as_diagnosis(), ask=ask,
                            on_event=on_event, observations=recorded_observations(recorded))

    return factory


def replay_session(recorded: Any, *, sinks: Iterable[Sink] = ()) -> Session:
    """A Session over a record (headless uses: tests, export); the TUI builds it through the factory."""
    return Session(recorded.request, replay_factory(recorded), sinks=sinks)


__all__ = ["recorded_observations", "replay_factory", "replay_session"]
