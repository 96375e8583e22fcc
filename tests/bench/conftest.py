"""Smoke runs of the benchmarks (``vnetdoctor bench …``): they prove a benchmark runs end
to end and measures what it says, never that a figure meets its target (CI machines are
noisy; the figures are printed next to their reference for people).

Each one runs the real workload for a while, so everything here is marked ``slow``;
slow tests still run by default and in CI (``-m "not slow"`` skips them locally). The
netlink benchmark needs network namespaces, so its smoke run lives in tests/lab.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.slow)
