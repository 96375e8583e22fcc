"""``vnetdoctor bench records``: builds its sessions, measures every row, and leaves nothing behind.

No timing assertions (CI machines are noisy; the figures are for people). This
proves that each measured path runs on the data the benchmark builds — a
benchmark that silently measured a failing export would report nonsense.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from vnetdoctor.bench_records import measure


def test_every_row_is_measured_on_small_sizes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # its own temp dir: other runs may be going on
    rows = measure(packets=300, sessions=40)
    what = [r[0] for r in rows]
    assert what == [
        "sessions list, page of 50 of 40",
        "sessions list, all 40",
        "export pcapng (streamed)",
        "export pcapng --redact",
        "load a 300-packet session, every frame",
        "list its packets",
        "replay to first screen (the App, 80x24)",
        "Packets screen, first rows listed",
        "  the same, p pressed as the verdict shows",
        "export pcapng, peak memory",
        "export json, peak memory",
    ]
    for row in rows:
        assert row[1] and row[1][0].isdigit(), row  # a figure, not an error
        assert row[4] in ("met", "MISSED", "info"), row
    assert any(r[2].startswith("scapy ") for r in rows)  # the reference ran in the same run
    # The replay's figures stand next to the same session with a few frames, measured in this run.
    assert all(r[2].startswith("300-packet session ") and r[2][19].isdigit() for r in rows[6:9]), rows[6:9]
    assert list(tmp_path.iterdir()) == []  # the databases it built are gone
