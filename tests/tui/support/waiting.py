"""Waiting helpers for pilot tests: poll a condition with a deadline, never a fixed sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


async def settle(pilot: Any, rounds: int = 6) -> None:
    """Wait until no worker runs and the App has processed what the workers posted."""
    app = pilot.app
    from textual.worker import WorkerCancelled, WorkerFailed

    for _ in range(rounds):
        try:
            await app.workers.wait_for_complete()
        except (WorkerFailed, WorkerCancelled):
            pass  # the screen's Worker.StateChanged handler deals with it; tests check that
        await pilot.pause()
        if not any(w.is_running for w in app.workers):
            await pilot.pause()
            return


async def wait_until(pilot: Any, predicate: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    """Poll ``predicate`` between message-queue drains until it holds (or fail after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}\n" + screen_text(pilot.app))
        await pilot.pause(0.005)


def screen_text(app: Any) -> str:
    """Everything visible on the current screen, as plain text (what an operator reads)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def showing(app: Any, screen_type: type) -> bool:
    """The top screen is a ``screen_type`` and has been composed and laid out."""
    screen = app.screen
    return isinstance(screen, screen_type) and screen.is_mounted and bool(screen.children) and screen.size.area > 0
