"""NO_COLOR keeps meaning visible: colours become attributes, never a dark grey.

Regression: with NO_COLOR, Textual greys every colour by luminance, and bold red
"✗ … NOT reachable" became grey on near-black — practically invisible.
"""

from __future__ import annotations

import pytest
from vnetdoctor.tui.emphasis import emphasis

from tests.tui.support.engine import make_app
from tests.tui.support.waiting import settle, wait_until


def test_colours_keep_their_meaning_without_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert emphasis("bold red") == "bold red"
    monkeypatch.setenv("NO_COLOR", "1")
    assert emphasis("bold red") == "bold reverse"
    assert emphasis("yellow") == "bold underline"
    assert emphasis("green") == "bold"
    assert emphasis("dim") == "dim"


async def test_the_verdict_and_the_failed_mark_are_reverse_video(monkeypatch: pytest.MonkeyPatch) -> None:
    from vnetdoctor.tui.widgets.verdict import VerdictView

    monkeypatch.setenv("NO_COLOR", "1")
    app, _deps = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        verdict = app.screen.query_one(VerdictView)
        await wait_until(pilot, lambda: verdict.diagnosis is not None, what="the verdict")
        headline = app.screen.query_one("#verdict-headline").render()
        spans = [s for s in headline.spans if "NOT" in headline.plain[s.start:s.end] or "✗" in headline.plain[s.start:s.end]]
        assert spans and all(getattr(s.style, "reverse", False) or "reverse" in str(s.style) for s in spans), headline.spans
