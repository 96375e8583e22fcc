"""Fixtures of the fault-lab tests, and the rule that makes this folder the lab.

Everything collected under tests/lab is marked ``lab`` here (it needs root and network
namespaces; tests/conftest.py skips it without them and guards the root namespace
around it), and nothing outside tests/lab may carry the mark: tests/conftest.py
refuses such a collection. The shared helpers are the ``tests.lab.support`` package.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from vnetdoctor.lab import LabInstance, up

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.lab)


@pytest.fixture
def bring_up(lab_prefix: str) -> Callable[[str], LabInstance]:
    """``bring_up(name)`` -> LabInstance under this test's prefix (taken down by lab_prefix)."""

    def _up(name: str) -> LabInstance:
        return up(name, lab_prefix)

    return _up
