"""Cells of the table views, without Textual: column specs, formatting, sorting, filtering.

Shared by :mod:`.table_sources` (which stays importable without Textual, so that
its tests and any non-TUI caller need no UI) and the
:class:`~vnetdoctor.tui.widgets.keyed_table.KeyedTable` widget.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.text import Text


@dataclass(frozen=True)
class ColumnSpec:
    """One shown column: its key (the row field), its header and an optional width cap."""

    key: str
    label: str
    max_width: int | None = None  # longer cell texts are cut with "…" (the filter sees all)


def format_value(value: Any) -> str:
    """How a row field reads in a cell: short, and the same on every screen."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value):
            return str(int(value))
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    if isinstance(value, (tuple, list, frozenset, set)):
        return ",".join(format_value(v) for v in value)
    return str(value)


def truncate(text: str, width: int | None) -> str:
    """``text`` cut to ``width`` terminal cells with a trailing ellipsis (CJK-aware)."""
    if width is None or cell_len(text) <= width:
        return text
    cut = Text(text)
    cut.truncate(width, overflow="ellipsis")
    return cut.plain


def sort_key(value: Any) -> tuple[int, Any]:
    """Numbers sort numerically, text case-insensitively, empty cells last."""
    if value is None or value == "":
        return (2, "")
    if isinstance(value, bool):
        return (0, float(value))
    if isinstance(value, (int, float)):
        return (0, float(value))
    text = format_value(value)
    try:
        return (0, float(text))
    except ValueError:
        return (1, text.lower())


def matches(cells: Iterable[str], needle: str) -> bool:
    """The filter rule: the text occurs (case-insensitively) in one of the shown cells."""
    if not needle:
        return True
    needle = needle.casefold()
    return any(needle in cell.casefold() for cell in cells)
