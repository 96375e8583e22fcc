"""Fixtures for the fault-lab tests (helpers live in ``lab_footprint.py``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from vnetdoctor.lab import LabInstance, up


@pytest.fixture
def bring_up(lab_prefix: str) -> Callable[[str], LabInstance]:
    """``bring_up(name)`` -> LabInstance under this test's prefix (taken down by lab_prefix)."""

    def _up(name: str) -> LabInstance:
        return up(name, lab_prefix)

    return _up
