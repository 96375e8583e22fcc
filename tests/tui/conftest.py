"""Fixtures of the TUI tests (the fakes they share are the ``tests.tui.support`` package).

The README's screenshots (``screenshots/*.svg``) come from the snapshot tests, but
only on demand: ``pytest tests/tui --update-screenshots`` writes them; an ordinary run
compares the stored snapshots and writes nothing outside pytest's own files.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Any, str], bool]:
    """``screenshot(app, "name.svg")``: save the App's screen into screenshots/ when the run
    asked for it (``--update-screenshots``); says whether it wrote the file."""
    wanted = bool(request.config.getoption("--update-screenshots"))

    def save(app: Any, name: str) -> bool:
        if not wanted:
            return False
        SCREENSHOTS.mkdir(exist_ok=True)
        app.save_screenshot(name, path=str(SCREENSHOTS))
        return True

    return save
