"""A recorder process for the concurrency tests: one session through the store's real write paths.

Run as ``python store_writer.py DB ROUNDS``: it opens the store, prints ``ready``,
waits for a line on stdin (so that every writer starts at the same moment), then
records one session exactly as ``diagnose`` and the TUI do — ``start_session``,
every step of the fixture session ``ROUNDS`` times, an event after each step,
``finish_session`` — and prints one JSON line: the session id, the number of
steps it recorded and how long that took. Any error is one line on stderr, exit 2.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # run as a script: the repository root

from tests.unit.support import store_fixtures as F

from vnetdoctor.store import SessionStore


def main(db: str, rounds: int) -> int:
    store = SessionStore(db)
    print("ready", flush=True)
    sys.stdin.readline()
    t0 = time.monotonic()
    try:
        sid = store.start_session(F.request(), source="test-writer")
        steps = F.steps(False) * rounds
        for i, step in enumerate(steps):
            store.record_step(sid, step)
            store.record_event(sid, "note", {"i": i})
        store.finish_session(sid, F.diagnosis(False))
    except Exception as exc:  # noqa: BLE001 - reported as the one line the test reads
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    print(json.dumps({"sid": sid, "steps": len(steps), "seconds": time.monotonic() - t0}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
